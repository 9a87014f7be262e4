package main

// The decision: which requests to the sandbox's engine would give a nested container more
// than Docker's defaults, and so rights over the learner's own machine. The sandbox runs
// as real root on the learner's kernel (no user namespace), so a nested container with a
// writable /proc/sys, a device, an extra capability or a bind of the engine's own files
// is root on the learner's machine. Everything else (build, run, exec, networks, volumes,
// ports, --user, --memory, --read-only, ...) is allowed.

import (
	"encoding/json"
	"errors"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Request is what dockerd tells an authorization plugin about one API call.
type Request struct {
	Method string
	URI    string
	// Body is nil when dockerd did not pass it (not JSON, or larger than 1 MiB).
	Body []byte
	// ContentType is the request's Content-Type header, as the client sent it.
	ContentType string
}

// Decision is the answer; Msg is shown to the learner by the docker CLI.
type Decision struct {
	Allow bool
	Msg   string
}

// Environment is what the policy looks up outside the request: how the sandbox's file
// system resolves a path, and a container's stored configuration.
type Environment interface {
	// ResolvePath returns the path with every symbolic link resolved (for a path that does
	// not exist yet: its longest existing parent resolved, the rest appended).
	ResolvePath(p string) (string, error)
	// ContainerHostConfig returns the stored HostConfig of a container (by name or id).
	ContainerHostConfig(id string) (json.RawMessage, error)
}

const refusalPrefix = "Layerlab's sandbox refuses "

func allow() Decision { return Decision{Allow: true} }

func deny(what, why string) Decision {
	return Decision{Msg: refusalPrefix + what + ": " + why + "."}
}

const (
	kernelRights = "would give this container the rights to change your own machine's kernel"
	whyKernel    = "it " + kernelRights
	hostReach    = "would let this container reach your own machine beyond the sandbox"
	whyUnread    = "the sandbox could not read what this request asks for (its body was not JSON, or larger than 1 MiB); send it as JSON"
	whyPlugins   = "engine plugins run with every right on the sandbox and could lift its limits; the course needs none"
	whySwarm     = "swarm services can ask for capabilities and devices outside these checks; the course does not use swarm mode"
	whyCgroup    = "containers stay in the learner's cgroup, whose memory and process caps keep the sandbox's engine alive"
	whyRuntime   = "only the default runtime (" + defaultRuntime + ", which runs runc) is available"
	// The engine's default runtime, named in daemon.json.
	defaultRuntime = "layerlab"
	bindAdvice     = "bind folders under /root, /home, /tmp, /var/tmp, /srv or /mnt, or the engine's socket /var/run/docker.sock; use a named volume for anything else"
	volumeAdvic    = "use a plain local volume (no options), or type=tmpfs"
)

// Docker's default capabilities: adding one of these again changes nothing.
var defaultCapabilities = map[string]bool{
	"CHOWN": true, "DAC_OVERRIDE": true, "FSETID": true, "FOWNER": true, "MKNOD": true, "NET_RAW": true,
	"SETGID": true, "SETUID": true, "SETFCAP": true, "SETPCAP": true, "NET_BIND_SERVICE": true,
	"SYS_CHROOT": true, "KILL": true, "AUDIT_WRITE": true,
}

// Where bind sources may come from: the learner's own folders. Everything else in the
// sandbox (/etc, /usr, /proc, /sys, /dev, /run, /var/lib/docker) belongs to the engine.
var bindRoots = []string{"/root", "/home", "/tmp", "/var/tmp", "/srv", "/mnt"}

// The engine's own socket may be handed to a container: its requests come back here.
var allowedSocketBinds = map[string]bool{"/var/run/docker.sock": true, "/run/docker.sock": true}

// dockerd's router takes the version as `/v{version:[0-9.]+}`, so "/v1.45./" and "/v./" are
// version prefixes too; stripping less would leave a path no check below matches.
var versionPrefix = regexp.MustCompile(`^/v[0-9.]+(/|$)`)

// apiPath is the request's path as dockerd's router sees it: decoded, cleaned, without the
// /v1.45 version prefix.
func apiPath(uri string) (string, error) {
	parsed, err := url.ParseRequestURI(uri)
	if err != nil {
		return "", err
	}
	p := path.Clean("/" + parsed.Path)
	if loc := versionPrefix.FindStringIndex(p); loc != nil {
		p = path.Clean("/" + p[loc[1]:])
	}
	// The router strips one prefix; a second one would make a path no route serves, and a
	// policy that guessed otherwise than the router would be a way around it: refuse.
	if versionPrefix.MatchString(p) {
		return "", errors.New("more than one version prefix")
	}
	return p, nil
}

var (
	// dockerd's routes take the container as `{name:.*}`, slashes and all: so does this, and
	// whatever name it is, the engine is asked what that container was stored with.
	containerAction = regexp.MustCompile(`^/containers/(.+)/(start|restart|unpause|exec|update)$`)
	serviceWrite    = regexp.MustCompile(`^/services/(create|[^/]+/update)$`)
)

// Decide is the whole policy. Reads are always allowed; writes that can widen a nested
// container's rights are checked, and refused when their body cannot be read.
func Decide(req Request, env Environment) Decision {
	method := strings.ToUpper(req.Method)
	if method == "GET" || method == "HEAD" || method == "OPTIONS" {
		return allow()
	}
	p, err := apiPath(req.URI)
	if err != nil {
		return deny("a request it cannot parse ("+truncate(req.URI)+")", "every request is checked before the engine acts on it")
	}
	switch {
	case p == "/containers/create":
		return withBody(req, func(body []byte) Decision { return checkContainerCreate(body, env) })
	case strings.HasPrefix(p, "/plugins/") || p == "/plugins":
		return deny("installing, creating or changing engine plugins", whyPlugins)
	case strings.HasPrefix(p, "/swarm/") && p != "/swarm/leave":
		return deny("swarm mode", whySwarm)
	case serviceWrite.MatchString(p):
		return deny("swarm services", whySwarm)
	case p == "/volumes/create":
		return withBody(req, checkVolumeCreate)
	case p == "/build":
		return checkBuild(req.URI, req.ContentType)
	}
	if match := containerAction.FindStringSubmatch(p); match != nil {
		id, action := match[1], match[2]
		switch action {
		case "exec":
			return withBody(req, checkExecCreate)
		case "update":
			return withBody(req, checkContainerUpdate)
		default: // start, restart, unpause: check what the container was stored with
			if action == "start" && len(req.Body) > 0 && strings.TrimSpace(string(req.Body)) != "{}" && strings.TrimSpace(string(req.Body)) != "null" {
				return deny("a start request that carries its own settings", "settings are given when the container is created")
			}
			stored, err := env.ContainerHostConfig(id)
			if err != nil {
				if errors.Is(err, errNoSuchContainer) {
					return allow() // the engine answers "No such container" itself
				}
				return deny("starting "+truncate(id)+" while its settings cannot be read ("+err.Error()+")", "every container is checked before it runs")
			}
			return checkHostConfig(stored, env)
		}
	}
	return allow()
}

var errNoSuchContainer = errors.New("no such container")

// withBody runs check on the body, refusing requests dockerd did not pass the body of: a
// client could otherwise hide --privileged in a body over 1 MiB or one not labelled JSON.
func withBody(req Request, check func([]byte) Decision) Decision {
	if len(req.Body) == 0 {
		return deny("this request", whyUnread)
	}
	return check(req.Body)
}

type createBody struct {
	HostConfig json.RawMessage
}

func checkContainerCreate(body []byte, env Environment) Decision {
	var create createBody
	if err := json.Unmarshal(body, &create); err != nil {
		return deny("a container whose settings are not valid JSON", "every container is checked before it is created")
	}
	if d := checkHostConfig(create.HostConfig, env); !d.Allow {
		return d
	}
	// Old API clients put HostConfig's fields at the top level of the body, and the engine
	// still stores them from there when no HostConfig is given: check the body as one too.
	return checkHostConfig(body, env)
}

// checkBuild refuses the classic builder's --cgroup-parent, which would run the build's
// steps outside the learner's cgroup and its caps. (BuildKit's own --cgroup-parent travels
// inside its session, out of this plugin's sight; see README.)
func checkBuild(uri string, contentType string) Decision {
	// dockerd reads build options with FormValue, which also parses a form body: options
	// there would be out of this check's sight. Clients send the build context (a tar) instead.
	media := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	if media == "application/x-www-form-urlencoded" || media == "multipart/form-data" {
		return deny("a build whose options come in a form body", "build options are checked in the request's address; send the build context as the body, as docker build does")
	}
	parsed, err := url.ParseRequestURI(uri)
	if err != nil {
		return deny("a build request it cannot parse", "every request is checked before the engine acts on it")
	}
	for key, values := range parsed.Query() {
		if strings.EqualFold(key, "cgroupparent") {
			for _, value := range values {
				if value != "" {
					return deny("docker build --cgroup-parent", whyCgroup)
				}
			}
		}
	}
	return allow()
}

type hostConfig struct {
	Privileged        bool
	CapAdd            []string
	SecurityOpt       []string
	Devices           []json.RawMessage
	DeviceCgroupRules []string
	DeviceRequests    []json.RawMessage
	Binds             []string
	Mounts            []mountSpec
	PidMode           string
	CgroupParent      string
	Runtime           string
	// nil in a create request means Docker's defaults, which the engine then stores in the
	// container's settings. `--security-opt systempaths=unconfined` sends empty lists: a
	// nested container would get a writable /proc/sys and /proc/sysrq-trigger.
	MaskedPaths   *[]string
	ReadonlyPaths *[]string
}

// Docker's defaults (as the engine stores them); a container must keep at least these.
var (
	defaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

func containsAll(list *[]string, required []string) bool {
	if list == nil {
		return true
	}
	have := map[string]bool{}
	for _, p := range *list {
		have[path.Clean(p)] = true
	}
	for _, p := range required {
		if !have[p] {
			return false
		}
	}
	return true
}

type mountSpec struct {
	Type          string
	Source        string
	Target        string
	VolumeOptions *struct {
		DriverConfig *struct {
			Name    string
			Options map[string]string
		}
	}
}

func checkHostConfig(raw json.RawMessage, env Environment) Decision {
	if len(raw) == 0 || string(raw) == "null" {
		return allow()
	}
	var hc hostConfig
	if err := json.Unmarshal(raw, &hc); err != nil {
		return deny("a container whose HostConfig is not valid JSON", "every container is checked before it runs")
	}
	if hc.Privileged {
		return deny("--privileged", whyKernel)
	}
	for _, capability := range hc.CapAdd {
		name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(capability)), "CAP_")
		if !defaultCapabilities[name] {
			return deny("--cap-add "+truncate(capability), "capabilities beyond Docker's defaults "+kernelRights)
		}
	}
	for _, option := range hc.SecurityOpt {
		if d := checkSecurityOpt(option); !d.Allow {
			return d
		}
	}
	if !containsAll(hc.MaskedPaths, defaultMaskedPaths) || !containsAll(hc.ReadonlyPaths, defaultReadonlyPaths) {
		return deny("--security-opt systempaths=unconfined", "a writable /proc/sys "+kernelRights)
	}
	if len(hc.Devices) > 0 {
		return deny("--device", "it "+hostReach+": a device of the sandbox is a device of your machine")
	}
	if len(hc.DeviceCgroupRules) > 0 {
		return deny("--device-cgroup-rule", "it "+hostReach)
	}
	if len(hc.DeviceRequests) > 0 {
		return deny("--gpus", "it "+hostReach)
	}
	if strings.EqualFold(hc.PidMode, "host") {
		return deny("--pid host", "it would let this container see and stop the sandbox's own engine and the checks that guard it")
	}
	if hc.CgroupParent != "" {
		return deny("--cgroup-parent", whyCgroup)
	}
	// Only the default runtime, layerlab-runc (runtime.go): runc by its own name would mount
	// bind sources by path, after this check, where a swapped-in link could lead elsewhere.
	if hc.Runtime != "" && hc.Runtime != defaultRuntime {
		return deny("--runtime "+truncate(hc.Runtime), whyRuntime)
	}
	for _, bind := range hc.Binds {
		if d := checkBind(bind, env); !d.Allow {
			return d
		}
	}
	for _, mount := range hc.Mounts {
		if d := checkMount(mount, env); !d.Allow {
			return d
		}
	}
	return allow()
}

var securityOptFlag = regexp.MustCompile(`^no-new-privileges([:=](true|false))?$`)

func checkSecurityOpt(option string) Decision {
	trimmed := strings.TrimSpace(option)
	if securityOptFlag.MatchString(strings.ToLower(trimmed)) {
		return allow()
	}
	key := strings.ToLower(strings.SplitN(strings.SplitN(trimmed, "=", 2)[0], ":", 2)[0])
	switch key {
	case "seccomp":
		return deny("--security-opt "+truncate(trimmed), "Docker's default seccomp profile is what keeps a container's root away from the kernel, so "+kernelRights)
	case "apparmor", "label":
		return deny("--security-opt "+truncate(trimmed), "dropping the default confinement "+kernelRights)
	case "systempaths":
		return deny("--security-opt "+truncate(trimmed), "a writable /proc/sys "+kernelRights)
	}
	return deny("--security-opt "+truncate(trimmed), "only no-new-privileges is allowed")
}

// checkBind checks one `-v source:target[:options]` entry; a source that is not an
// absolute path names a volume.
func checkBind(bind string, env Environment) Decision {
	source := strings.SplitN(bind, ":", 2)[0]
	if !strings.HasPrefix(source, "/") {
		return allow()
	}
	return checkBindSource(source, "-v "+truncate(bind), env)
}

func checkMount(mount mountSpec, env Environment) Decision {
	switch strings.ToLower(mount.Type) {
	case "bind":
		return checkBindSource(mount.Source, "--mount type=bind,source="+truncate(mount.Source), env)
	case "volume", "":
		if mount.VolumeOptions != nil && mount.VolumeOptions.DriverConfig != nil {
			config := mount.VolumeOptions.DriverConfig
			if d := checkVolumeDriver(config.Name, config.Options, "--mount type=volume with volume-driver or volume-opt"); !d.Allow {
				return d
			}
		}
		return allow()
	case "tmpfs":
		return allow()
	}
	return deny("--mount type="+truncate(mount.Type), "only bind, volume and tmpfs mounts are available")
}

func checkBindSource(source string, what string, env Environment) Decision {
	cleaned := path.Clean(source)
	if allowedSocketBinds[cleaned] {
		return allow()
	}
	if !underBindRoots(cleaned) {
		return deny(what, bindReason(cleaned)+"; "+bindAdvice)
	}
	resolved, err := env.ResolvePath(cleaned)
	if err != nil {
		return deny(what, "its source cannot be checked ("+err.Error()+")")
	}
	if resolved != cleaned {
		return deny(what, "its source goes through a symbolic link (to "+truncate(resolved)+"), and links can be changed after this check; give the real folder")
	}
	return allow()
}

func underBindRoots(p string) bool {
	for _, root := range bindRoots {
		if p == root || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

func bindReason(p string) string {
	first := "/" + strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]
	switch first {
	case "/proc", "/sys":
		return "the sandbox's " + first + " " + kernelRights
	case "/dev":
		return "the sandbox's devices are your own machine's devices"
	case "/":
		return "the sandbox's whole file system includes its engine, /proc and /sys, which " + kernelRights
	}
	return "the sandbox's " + first + " belongs to its engine, and a container that could change it would get around these checks"
}

type volumeCreateBody struct {
	Driver     string
	DriverOpts map[string]string
}

func checkVolumeCreate(body []byte) Decision {
	var volume volumeCreateBody
	if err := json.Unmarshal(body, &volume); err != nil {
		return deny("a volume whose settings are not valid JSON", "every volume is checked before it is created")
	}
	return checkVolumeDriver(volume.Driver, volume.DriverOpts, "docker volume create with --driver or --opt")
}

// The local driver mounts what its options say, with the engine's rights: type=proc,
// sysfs or cgroup, or o=bind of /etc, would hand a container what a bind is refused.
// A tmpfs is harmless.
func checkVolumeDriver(driver string, options map[string]string, what string) Decision {
	if driver != "" && driver != "local" {
		return deny(what+" (driver "+truncate(driver)+")", whyPlugins)
	}
	if len(options) == 0 {
		return allow()
	}
	// In a fixed order, type first, so the message names the option that matters most.
	keys := make([]string, 0, len(options))
	for key := range options {
		keys = append(keys, key)
	}
	rank := func(key string) int {
		if strings.EqualFold(key, "type") {
			return 0
		}
		return 1
	}
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, key := range keys {
		value := options[key]
		switch strings.ToLower(key) {
		case "type", "device":
			if strings.ToLower(value) != "tmpfs" {
				return deny(what+" ("+truncate(key+"="+value)+")", "the engine would mount it with its own rights, which "+kernelRights+"; "+volumeAdvic)
			}
		case "o":
			for _, option := range strings.Split(value, ",") {
				name := strings.ToLower(strings.TrimSpace(strings.SplitN(option, "=", 2)[0]))
				if !tmpfsOptions[name] {
					return deny(what+" (o="+truncate(value)+")", "only tmpfs size, mode, uid, gid and nr_inodes options are allowed; "+volumeAdvic)
				}
			}
		default:
			return deny(what+" ("+truncate(key)+")", volumeAdvic)
		}
	}
	if !strings.EqualFold(options["type"], "tmpfs") {
		return deny(what, volumeAdvic)
	}
	return allow()
}

var tmpfsOptions = map[string]bool{"size": true, "mode": true, "uid": true, "gid": true, "nr_inodes": true, "": true}

type execBody struct {
	Privileged bool
}

func checkExecCreate(body []byte) Decision {
	var exec execBody
	if err := json.Unmarshal(body, &exec); err != nil {
		return deny("an exec whose settings are not valid JSON", "every exec is checked before it runs")
	}
	if exec.Privileged {
		return deny("docker exec --privileged", whyKernel)
	}
	return allow()
}

type updateBody struct {
	Devices           []json.RawMessage
	DeviceCgroupRules []string
	DeviceRequests    []json.RawMessage
}

func checkContainerUpdate(body []byte) Decision {
	var update updateBody
	if err := json.Unmarshal(body, &update); err != nil {
		return deny("an update whose settings are not valid JSON", "every update is checked before it applies")
	}
	if len(update.Devices) > 0 || len(update.DeviceCgroupRules) > 0 || len(update.DeviceRequests) > 0 {
		return deny("adding devices to a container", "a device of the sandbox is a device of your own machine")
	}
	return allow()
}

// truncate keeps a learner-supplied value short enough for a one-line message.
func truncate(s string) string {
	const max = 80
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
