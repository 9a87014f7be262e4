package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCreateBundle(t *testing.T) {
	cases := []struct {
		args     []string
		bundle   string
		isCreate bool
	}{
		{[]string{"--root", "/run/runc", "--log", "l.json", "--log-format", "json", "create", "--bundle", "/b/one", "--pid-file", "p", "id"}, "/b/one", true},
		{[]string{"create", "-b", "/b/two", "id"}, "/b/two", true},
		{[]string{"create", "--bundle=/b/three", "id"}, "/b/three", true},
		{[]string{"run", "id"}, ".", true},
		{[]string{"--root", "/run/runc", "start", "id"}, "", false},
		{[]string{"--root", "/run/runc", "delete", "--force", "id"}, "", false},
	}
	for _, c := range cases {
		bundle, isCreate := createBundle(c.args)
		if bundle != c.bundle || isCreate != c.isCreate {
			t.Errorf("createBundle(%q) = %q, %v; want %q, %v", c.args, bundle, isCreate, c.bundle, c.isCreate)
		}
	}
}

// sameFile tells whether two paths lead to the same inode.
func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	var sa, sb syscall.Stat_t
	if err := syscall.Stat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestOpenWithoutLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.MkdirAll(filepath.Join(real, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(dir, "linked-parent")); err != nil {
		t.Fatal(err)
	}

	fd, err := openWithoutLinks(filepath.Join(real, "inner"))
	if err != nil {
		t.Fatalf("a plain folder: %v", err)
	}
	defer syscall.Close(fd)
	procPath := fmt.Sprintf("/proc/self/fd/%d", fd)
	if !sameFile(t, procPath, filepath.Join(real, "inner")) {
		t.Errorf("%s is not the folder opened", procPath)
	}
	// Once opened, a swap of the name changes nothing: the descriptor is the checked folder.
	if err := os.Rename(real, filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", real); err != nil {
		t.Fatal(err)
	}
	if !sameFile(t, procPath, filepath.Join(dir, "moved", "inner")) {
		t.Errorf("%s followed the swapped-in link", procPath)
	}

	for _, linked := range []string{filepath.Join(dir, "link"), filepath.Join(dir, "link", "passwd"), filepath.Join(dir, "linked-parent", "inner"), real} {
		if _, err := openWithoutLinks(linked); !errors.Is(err, errSymlink) {
			t.Errorf("openWithoutLinks(%s) = %v, want the symbolic link refused", linked, err)
		}
	}
	if _, err := openWithoutLinks(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("a missing folder was opened")
	}
}

func TestPinBindSources(t *testing.T) {
	dir := t.TempDir()
	if !underBindRoots(dir) {
		t.Skipf("the temporary folder %s is not under a bind root", dir)
	}
	source := filepath.Join(dir, "app")
	config := `{"ociVersion":"1.0.2","process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1048576}]},` +
		`"mounts":[{"destination":"/proc","type":"proc","source":"proc"},` +
		`{"destination":"/etc/hosts","type":"bind","source":"/var/lib/docker/containers/x/hosts","options":["rbind","rprivate"]},` +
		`{"destination":"/app","type":"bind","source":"` + source + `/","options":["rbind","rprivate"]}]}`
	configPath := filepath.Join(dir, "config.json")
	pinDir := filepath.Join(dir, "pinned", "c1")

	// A source that is a link by the time the runtime runs is refused, not mounted.
	if err := os.Symlink("/etc", source); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := pinBindSources(configPath, pinDir); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a swapped-in link was accepted: %v", err)
	}
	if raw, _ := os.ReadFile(configPath); string(raw) != config {
		t.Errorf("config.json was changed although the container is refused")
	}

	if err := os.Remove(source); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(source, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(source, "marker"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := pinBindSources(configPath, pinDir)
	if errors.Is(err, syscall.EPERM) {
		// The sandbox's integration test runs this for real, with the engine's rights.
		t.Skip("mounting needs CAP_SYS_ADMIN, which this test's container does not have")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unpin(pinDir)
	raw, err := os.ReadFile(configPath)
	if err != nil {
		t.Fatal(err)
	}
	// Numbers too big for a float64 are kept exactly.
	if !strings.Contains(string(raw), "18446744073709551615") {
		t.Errorf("the rlimit was changed: %s", raw)
	}
	var rewritten struct {
		Mounts []struct{ Destination, Source string }
	}
	if err := json.Unmarshal(raw, &rewritten); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for _, mount := range rewritten.Mounts {
		sources[mount.Destination] = mount.Source
	}
	if sources["/proc"] != "proc" || sources["/etc/hosts"] != "/var/lib/docker/containers/x/hosts" {
		t.Errorf("mounts outside the learner's folders were changed: %v", sources)
	}
	if sources["/app"] != filepath.Join(pinDir, "2") {
		t.Fatalf("the learner's bind was not pinned: %q", sources["/app"])
	}
	// Swapped after pinning: the pinned path still leads to the folder that was checked.
	if err := os.Rename(source, filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", source); err != nil {
		t.Fatal(err)
	}
	if marker, err := os.ReadFile(filepath.Join(sources["/app"], "marker")); err != nil || string(marker) != "mine" {
		t.Errorf("the pinned source is not the checked folder: %q, %v", marker, err)
	}
	unpin(pinDir)
	if _, err := os.Stat(pinDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unpin left %s: %v", pinDir, err)
	}
}

func TestPinnedDir(t *testing.T) {
	if got := pinnedDir([]string{"--root", "r", "create", "--bundle", "b", "0123abcd"}); got != "/run/layerlab-binds/0123abcd" {
		t.Errorf("pinnedDir = %s", got)
	}
	if got := pinnedDir([]string{"delete", "../../etc"}); got != "/run/layerlab-binds/unnamed" {
		t.Errorf("a container id with a path in it was used: %s", got)
	}
}
