package main

// layerlab-runc: the nested engine's default runtime, a thin shell around runc that closes
// the race between the authorization plugin's check of a bind source and the mount itself.
//
// The plugin checks that a bind source under the learner's folders has no symbolic link in
// it; dockerd then hands the path to runc, which looks it up again when it mounts. A learner
// (or a container with a learner's folder bound in) could swap a checked folder for a link
// to /etc or /proc in between. So before runc creates a container, every such source is
// opened here one component at a time without following links (refused if a component is
// a link), that very folder is bind-mounted under /run/layerlab-binds/<container>/ (where
// nothing in the sandbox but the engine can write), and runc is given that path instead.
// A descriptor cannot be handed to runc itself: its mounts happen in the container's new
// mount namespace, where a bind of a mount of the engine's namespace is refused (EINVAL).
// `runc delete` of the container unmounts them again.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const realRuntime = "/usr/sbin/runc"

// Where the checked bind sources are mounted, one folder per container (a private tmpfs
// made by start-dockerd.sh, read-only in learners' shells).
const pinnedRoot = "/run/layerlab-binds"

// runAsRuntime is main for layerlab-runc; it only returns on failure.
func runAsRuntime(args []string) {
	if bundle, isCreate := createBundle(args); isCreate {
		if err := pinBindSources(filepath.Join(bundle, "config.json"), pinnedDir(args)); err != nil {
			fmt.Fprintf(os.Stderr, "layerlab-runc: %v\n", err)
			os.Exit(1)
		}
	}
	if isDelete(args) {
		unpin(pinnedDir(args))
	}
	err := syscall.Exec(realRuntime, append([]string{"runc"}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "layerlab-runc: cannot run %s: %v\n", realRuntime, err)
	os.Exit(1)
}

// createBundle finds runc's `create` (or `run`) subcommand among the arguments, and its
// bundle folder (--bundle/-b; the working folder by default).
func createBundle(args []string) (string, bool) {
	for i, arg := range args {
		if arg != "create" && arg != "run" {
			continue
		}
		bundle := "."
		for j := i + 1; j < len(args); j++ {
			switch {
			case (args[j] == "--bundle" || args[j] == "-b") && j+1 < len(args):
				bundle = args[j+1]
			case strings.HasPrefix(args[j], "--bundle="):
				bundle = strings.TrimPrefix(args[j], "--bundle=")
			}
		}
		return bundle, true
	}
	return "", false
}

// pinBindSources rewrites the bundle's bind mounts of the learner's folders to descriptors
// pinned under pinDir; everything else in config.json is kept as it was.
func pinBindSources(configPath string, pinDir string) error {
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var config map[string]any
	if err := decoder.Decode(&config); err != nil {
		return fmt.Errorf("reading %s: %w", configPath, err)
	}
	mountsJSON, err := json.Marshal(config["mounts"])
	if err != nil {
		return err
	}
	var mounts []map[string]any
	if err := json.Unmarshal(mountsJSON, &mounts); err != nil || mounts == nil {
		return nil
	}
	changed := false
	for index, mount := range mounts {
		source, _ := mount["source"].(string)
		if !isBindMount(mount) || !underBindRoots(path.Clean(source)) {
			continue
		}
		pinned, err := pin(path.Clean(source), pinDir, index)
		if err != nil {
			return fmt.Errorf("the bind source %s cannot be used: %w", source, err)
		}
		mount["source"] = pinned
		changed = true
	}
	if !changed {
		return nil
	}
	config["mounts"] = mounts
	out, err := json.Marshal(config)
	if err != nil {
		return err
	}
	temporary := configPath + ".layerlab"
	if err := os.WriteFile(temporary, out, 0o600); err != nil {
		return err
	}
	return os.Rename(temporary, configPath)
}

func isBindMount(mount map[string]any) bool {
	if kind, _ := mount["type"].(string); kind == "bind" {
		return true
	}
	options, _ := mount["options"].([]any)
	for _, option := range options {
		if option == "bind" || option == "rbind" {
			return true
		}
	}
	return false
}

// O_PATH (Go's syscall package does not name it): the same value on amd64 and arm64.
const oPath = 0x200000

var errSymlink = errors.New("it goes through a symbolic link, which may have been swapped in after the engine checked it; give the real folder")

// openWithoutLinks opens p (absolute, clean) one component at a time, refusing any
// component that is a symbolic link.
func openWithoutLinks(p string) (int, error) {
	fd, err := syscall.Open("/", oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	for _, name := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if name == "" {
			continue
		}
		next, err := syscall.Openat(fd, name, oPath|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		syscall.Close(fd)
		if err != nil {
			return -1, err
		}
		var stat syscall.Stat_t
		if err := syscall.Fstat(next, &stat); err != nil {
			syscall.Close(next)
			return -1, err
		}
		if stat.Mode&syscall.S_IFMT == syscall.S_IFLNK {
			syscall.Close(next)
			return -1, errSymlink
		}
		fd = next
	}
	return fd, nil
}

// pin mounts the folder (or file) at source, opened without following links, at
// pinDir/<index>, and returns that path.
func pin(source string, pinDir string, index int) (string, error) {
	fd, err := openWithoutLinks(source)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	var stat syscall.Stat_t
	if err := syscall.Fstat(fd, &stat); err != nil {
		return "", err
	}
	if err := os.MkdirAll(pinDir, 0o700); err != nil {
		return "", err
	}
	target := filepath.Join(pinDir, strconv.Itoa(index))
	if stat.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		err = os.Mkdir(target, 0o700)
	} else {
		err = os.WriteFile(target, nil, 0o600)
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	// The descriptor's own path in /proc leads to the opened folder whatever its name
	// points to now; rbind, as Docker asks for.
	if err := syscall.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return "", err
	}
	return target, nil
}

// pinnedDir is the container's folder under pinnedRoot: its id is runc's last argument.
func pinnedDir(args []string) string {
	if len(args) == 0 {
		return filepath.Join(pinnedRoot, "unnamed")
	}
	id := args[len(args)-1]
	if id == "" || strings.ContainsAny(id, "/.") {
		id = "unnamed"
	}
	return filepath.Join(pinnedRoot, id)
}

func isDelete(args []string) bool {
	for _, arg := range args {
		if arg == "delete" {
			return true
		}
	}
	return false
}

// unpin removes a container's pinned sources; the container's own mounts are its own copies.
func unpin(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, entry := range entries {
		target := filepath.Join(dir, entry.Name())
		_ = syscall.Unmount(target, syscall.MNT_DETACH)
		_ = os.Remove(target)
	}
	_ = os.Remove(dir)
}
