package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fakeSandbox is a file system of links and stored containers, for the policy alone.
type fakeSandbox struct {
	links      map[string]string
	containers map[string]string
}

func (f fakeSandbox) ResolvePath(p string) (string, error) {
	for link, target := range f.links {
		if p == link || strings.HasPrefix(p, link+"/") {
			return target + strings.TrimPrefix(p, link), nil
		}
	}
	return p, nil
}

func (f fakeSandbox) ContainerHostConfig(id string) (json.RawMessage, error) {
	if id == "broken" {
		return nil, errors.New("engine not answering")
	}
	hc, ok := f.containers[id]
	if !ok {
		return nil, errNoSuchContainer
	}
	return json.RawMessage(hc), nil
}

var sandbox = fakeSandbox{
	links: map[string]string{"/tmp/proc-link": "/proc", "/root/etc": "/etc"},
	containers: map[string]string{
		"plain":      `{"Binds":["/root/www:/www"],"CapAdd":null,"Privileged":false,` + storedSystemPaths + `}`,
		"unmasked":   `{"MaskedPaths":[],"ReadonlyPaths":[]}`,
		"edited":     `{"Privileged":true}`,
		"swapped":    `{"Binds":["/tmp/proc-link:/p"]}`,
		"nullconfig": `null`,
		"sub/edited": `{"Privileged":true}`,
	},
}

// What the engine stores for a container created with Docker's defaults.
const storedSystemPaths = `"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware","/sys/devices/virtual/powercap"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]`

func create(hostConfig string) Request {
	return Request{Method: "POST", URI: "/v1.45/containers/create?name=x", Body: []byte(`{"Image":"busybox","HostConfig":` + hostConfig + `}`)}
}

func TestRefuses(t *testing.T) {
	cases := []struct {
		name    string
		request Request
		want    string // part of the message
	}{
		{"privileged", create(`{"Privileged":true}`), "refuses --privileged: it would give this container the rights to change your own machine's kernel"},
		{"privileged, field name in another case", create(`{"privileged":true}`), "--privileged"},
		{"privileged, duplicate key (the last one counts, as in dockerd)", create(`{"Privileged":false,"Privileged":true}`), "--privileged"},
		{"cap-add SYS_ADMIN", create(`{"CapAdd":["SYS_ADMIN"]}`), "--cap-add SYS_ADMIN"},
		{"cap-add with prefix and case", create(`{"CapAdd":["cap_sys_module"]}`), "--cap-add cap_sys_module"},
		{"cap-add ALL", create(`{"CapAdd":["ALL"]}`), "--cap-add ALL"},
		{"systempaths=unconfined as the CLI sends it", create(`{"MaskedPaths":[],"ReadonlyPaths":[]}`), "systempaths=unconfined"},
		{"only ReadonlyPaths emptied", create(`{"ReadonlyPaths":[]}`), "systempaths=unconfined"},
		{"/proc/sys left out of ReadonlyPaths", create(`{"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sysrq-trigger"]}`), "systempaths=unconfined"},
		{"start of a container stored unmasked", Request{Method: "POST", URI: "/v1.45/containers/unmasked/start"}, "systempaths=unconfined"},
		{"seccomp=unconfined", create(`{"SecurityOpt":["seccomp=unconfined"]}`), "seccomp=unconfined"},
		{"custom seccomp profile", create(`{"SecurityOpt":["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]}`), "seccomp"},
		{"apparmor=unconfined", create(`{"SecurityOpt":["apparmor=unconfined"]}`), "apparmor=unconfined"},
		{"label=disable", create(`{"SecurityOpt":["label=disable"]}`), "label=disable"},
		{"systempaths via security-opt", create(`{"SecurityOpt":["systempaths=unconfined"]}`), "systempaths"},
		{"unknown security-opt", create(`{"SecurityOpt":["something=else"]}`), "only no-new-privileges"},
		{"device", create(`{"Devices":[{"PathOnHost":"/dev/vda","PathInContainer":"/dev/vda","CgroupPermissions":"rwm"}]}`), "--device"},
		{"device cgroup rule", create(`{"DeviceCgroupRules":["b *:* rwm"]}`), "--device-cgroup-rule"},
		{"gpus", create(`{"DeviceRequests":[{"Count":-1}]}`), "--gpus"},
		{"pid host", create(`{"PidMode":"host"}`), "--pid host"},
		{"cgroup parent", create(`{"CgroupParent":"/"}`), "--cgroup-parent"},
		{"another runtime", create(`{"Runtime":"/tmp/evil"}`), "--runtime"},
		{"runc by its own name, which mounts binds by path", create(`{"Runtime":"runc"}`), "--runtime runc"},
		{"bind /proc", create(`{"Binds":["/proc:/host-proc"]}`), "-v /proc:/host-proc"},
		{"bind /proc/sys/kernel", create(`{"Binds":["/proc/sys/kernel:/k"]}`), "/proc"},
		{"bind /sys", create(`{"Binds":["/sys:/s:ro"]}`), "/sys"},
		{"bind /dev", create(`{"Binds":["/dev:/d"]}`), "devices"},
		{"bind /", create(`{"Binds":["/:/host"]}`), "whole file system"},
		{"bind /etc", create(`{"Binds":["/etc:/h"]}`), "/etc belongs to its engine"},
		{"bind with dot-dot", create(`{"Binds":["/tmp/../proc:/p"]}`), "/proc"},
		{"bind the containerd socket folder", create(`{"Binds":["/run/docker/containerd:/c"]}`), "/run"},
		{"bind /var/lib/docker", create(`{"Binds":["/var/lib/docker:/d"]}`), "/var"},
		{"bind through a link", create(`{"Binds":["/tmp/proc-link:/p"]}`), "symbolic link (to /proc)"},
		{"bind a path below a link", create(`{"Binds":["/root/etc/cron.d:/c"]}`), "symbolic link"},
		{"mount bind /proc non-recursive", create(`{"Mounts":[{"Type":"bind","Source":"/proc","Target":"/p","BindOptions":{"NonRecursive":true}}]}`), "--mount type=bind,source=/proc"},
		{"mount type in capitals", create(`{"Mounts":[{"Type":"BIND","Source":"/sys","Target":"/p"}]}`), "/sys"},
		{"mount volume with proc options", create(`{"Mounts":[{"Type":"volume","Target":"/p","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"proc","device":"proc"}}}}]}`), "type=proc"},
		{"mount volume with another driver", create(`{"Mounts":[{"Type":"volume","Target":"/p","VolumeOptions":{"DriverConfig":{"Name":"evil"}}}]}`), "driver evil"},
		{"mount of an unknown type", create(`{"Mounts":[{"Type":"npipe","Source":"x","Target":"/p"}]}`), "only bind, volume and tmpfs"},
		{"create without a body dockerd passed on", Request{Method: "POST", URI: "/v1.45/containers/create"}, "could not read what this request asks for"},
		{"create with a body that is not JSON", Request{Method: "POST", URI: "/containers/create", Body: []byte("{")}, "not valid JSON"},
		{"create spelled with escapes", Request{Method: "POST", URI: "/v1.45/containers/%63reate", Body: []byte(`{"HostConfig":{"Privileged":true}}`)}, "--privileged"},
		{"create behind a double slash", Request{Method: "POST", URI: "//v1.45//containers/./create", Body: []byte(`{"HostConfig":{"Privileged":true}}`)}, "--privileged"},
		{"create without a version", Request{Method: "post", URI: "/containers/create", Body: []byte(`{"HostConfig":{"Privileged":true}}`)}, "--privileged"},
		{"exec --privileged", Request{Method: "POST", URI: "/v1.45/containers/web/exec", Body: []byte(`{"Cmd":["sh"],"Privileged":true}`)}, "docker exec --privileged"},
		// dockerd's router reads the version as [0-9.]+, so each of these is a version prefix.
		{"create behind a version with a trailing dot", Request{Method: "POST", URI: "/v1.45./containers/create", Body: []byte(`{"HostConfig":{"CapAdd":["ALL"]}}`)}, "--cap-add ALL"},
		{"create behind a version of dots", Request{Method: "POST", URI: "/v../containers/create", Body: []byte(`{"HostConfig":{"Privileged":true}}`)}, "--privileged"},
		{"create behind a bare /v1", Request{Method: "POST", URI: "/v1/containers/create", Body: []byte(`{"HostConfig":{"Privileged":true}}`)}, "--privileged"},
		{"exec behind a version with a trailing dot", Request{Method: "POST", URI: "/v1.45./containers/web/exec", Body: []byte(`{"Cmd":["sh"],"Privileged":true}`)}, "docker exec --privileged"},
		{"plugin create behind a version with dots", Request{Method: "POST", URI: "/v1.45../plugins/create?name=x"}, "plugins"},
		{"two version prefixes", Request{Method: "POST", URI: "/v1.45/v1.45/containers/create", Body: []byte(`{"Image":"busybox"}`)}, "cannot parse"},
		{"HostConfig's fields at the top level, as old clients send them", Request{Method: "POST", URI: "/v1.45/containers/create", Body: []byte(`{"Image":"busybox","CapAdd":["SYS_ADMIN"],"MaskedPaths":[],"ReadonlyPaths":[]}`)}, "--cap-add SYS_ADMIN"},
		{"top-level privileged beside an empty HostConfig", Request{Method: "POST", URI: "/containers/create", Body: []byte(`{"Image":"busybox","Privileged":true,"HostConfig":{}}`)}, "--privileged"},
		{"build options in a form body", Request{Method: "POST", URI: "/v1.45/build", ContentType: "application/x-www-form-urlencoded", Body: []byte("remote=http://x/&cgroupparent=/")}, "form body"},
		{"build options in a multipart body", Request{Method: "POST", URI: "/v1.45/build", ContentType: "Multipart/Form-Data; boundary=x"}, "form body"},
		{"classic build with --cgroup-parent", Request{Method: "POST", URI: "/v1.45/build?t=x&cgroupparent=%2F"}, "docker build --cgroup-parent"},
		{"classic build with --cgroup-parent in other case", Request{Method: "POST", URI: "/v1.45./build?CgroupParent=/docker"}, "docker build --cgroup-parent"},
		{"exec without a body", Request{Method: "POST", URI: "/v1.45/containers/web/exec"}, "could not read"},
		{"update adding a device", Request{Method: "POST", URI: "/v1.45/containers/web/update", Body: []byte(`{"Devices":[{"PathOnHost":"/dev/vda"}]}`)}, "devices"},
		{"start of a container whose stored settings were edited", Request{Method: "POST", URI: "/v1.45/containers/edited/start"}, "--privileged"},
		{"restart of it", Request{Method: "POST", URI: "/v1.45/containers/edited/restart"}, "--privileged"},
		{"exec with a slash in the container's name", Request{Method: "POST", URI: "/v1.45/containers/x/y/exec", Body: []byte(`{"Cmd":["sh"],"Privileged":true}`)}, "docker exec --privileged"},
		{"start with a slash in the container's name", Request{Method: "POST", URI: "/v1.45/containers/sub/edited/start"}, "--privileged"},
		{"start of a container whose bind now goes through a link", Request{Method: "POST", URI: "/v1.45/containers/swapped/start"}, "symbolic link"},
		{"start while its settings cannot be read", Request{Method: "POST", URI: "/v1.45/containers/broken/start"}, "cannot be read"},
		{"start with settings in the body", Request{Method: "POST", URI: "/v1.23/containers/plain/start", Body: []byte(`{"Privileged":true}`)}, "carries its own settings"},
		{"plugin install", Request{Method: "POST", URI: "/v1.45/plugins/pull?remote=x"}, "plugins"},
		{"plugin create from a folder", Request{Method: "POST", URI: "/v1.45/plugins/create?name=x"}, "plugins"},
		{"plugin enable", Request{Method: "POST", URI: "/v1.45/plugins/x/enable"}, "plugins"},
		{"swarm init", Request{Method: "POST", URI: "/v1.45/swarm/init", Body: []byte(`{}`)}, "swarm mode"},
		{"service create", Request{Method: "POST", URI: "/v1.45/services/create", Body: []byte(`{}`)}, "swarm services"},
		{"service update", Request{Method: "POST", URI: "/v1.45/services/web/update?version=3", Body: []byte(`{}`)}, "swarm services"},
		{"volume with proc", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"p","DriverOpts":{"type":"proc","device":"proc"}}`)}, "type=proc"},
		{"volume binding /etc", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"p","DriverOpts":{"type":"none","device":"/etc","o":"bind"}}`)}, "type=none"},
		{"tmpfs volume with a bind option", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"p","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"bind"}}`)}, "o=bind"},
		{"volume of another driver", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"p","Driver":"evil"}`)}, "driver evil"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			decision := Decide(c.request, sandbox)
			if decision.Allow {
				t.Fatalf("allowed, want refused with %q", c.want)
			}
			if !strings.HasPrefix(decision.Msg, "Layerlab's sandbox refuses ") || !strings.Contains(decision.Msg, c.want) {
				t.Fatalf("message %q, want it to contain %q", decision.Msg, c.want)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	cases := []struct {
		name    string
		request Request
	}{
		{"any read", Request{Method: "GET", URI: "/v1.45/containers/json?all=1"}},
		{"a plain run", create(`{"NetworkMode":"default","PortBindings":{"80/tcp":[{"HostPort":"8080"}]},"RestartPolicy":{"Name":"no"}}`)},
		{"no HostConfig at all", Request{Method: "POST", URI: "/containers/create", Body: []byte(`{"Image":"busybox"}`)}},
		{"limits, user and read-only", create(`{"Memory":67108864,"PidsLimit":64,"ReadonlyRootfs":true,"Init":true}`)},
		{"adding a capability Docker grants anyway", create(`{"CapAdd":["NET_RAW","cap_chown"]}`)},
		{"dropping capabilities", create(`{"CapDrop":["ALL"]}`)},
		{"no-new-privileges", create(`{"SecurityOpt":["no-new-privileges","no-new-privileges:true","no-new-privileges=false"]}`)},
		{"a bind of the learner's folder", create(`{"Binds":["/root/www:/www","/tmp/build:/b:ro","/home/me/x:/x:rw,z"]}`)},
		{"a bind of a folder that does not exist yet", create(`{"Binds":["/root/new/folder:/n"]}`)},
		{"the engine's socket", create(`{"Binds":["/var/run/docker.sock:/var/run/docker.sock"]}`)},
		{"named volumes", create(`{"Binds":["data:/data","cache:/cache:ro"],"Mounts":[{"Type":"volume","Source":"v","Target":"/v"},{"Type":"tmpfs","Target":"/t"}]}`)},
		{"a bind through --mount", create(`{"Mounts":[{"Type":"bind","Source":"/root/app","Target":"/app","ReadOnly":true}]}`)},
		{"host network and ipc", create(`{"NetworkMode":"host","IpcMode":"host","UTSMode":"host"}`)},
		{"pid of another container", create(`{"PidMode":"container:web"}`)},
		{"the default runtime", create(`{"Runtime":"layerlab"}`)},
		{"more masked paths than Docker's", create(`{` + strings.Replace(storedSystemPaths, `"/proc/asound"`, `"/proc/asound","/proc/cpuinfo"`, 1) + `}`)},
		{"null lists", create(`{"Binds":null,"Mounts":null,"CapAdd":null,"Devices":null,"MaskedPaths":null,"ReadonlyPaths":null}`)},
		{"exec", Request{Method: "POST", URI: "/v1.45/containers/web/exec", Body: []byte(`{"Cmd":["sh"],"User":"1000","Tty":true}`)}},
		{"update of limits", Request{Method: "POST", URI: "/v1.45/containers/web/update", Body: []byte(`{"Memory":134217728,"RestartPolicy":{"Name":"always"}}`)}},
		{"start of a plain container", Request{Method: "POST", URI: "/v1.45/containers/plain/start"}},
		{"start with an empty object", Request{Method: "POST", URI: "/v1.45/containers/plain/start", Body: []byte(`{}`)}},
		{"start of a container with no settings", Request{Method: "POST", URI: "/v1.45/containers/nullconfig/start"}},
		{"start of a missing container (the engine says so)", Request{Method: "POST", URI: "/v1.45/containers/missing/start"}},
		{"build", Request{Method: "POST", URI: "/v1.45/build?t=x&networkmode=host"}},
		{"build with a tar context, as the CLI sends it", Request{Method: "POST", URI: "/v1.45/build?t=x", ContentType: "application/x-tar"}},
		{"build with an empty cgroup parent, as the CLI sends it", Request{Method: "POST", URI: "/v1.45/build?t=x&cgroupparent="}},
		{"a version with a trailing dot, for a plain run", Request{Method: "POST", URI: "/v1.45./containers/create", Body: []byte(`{"Image":"busybox","HostConfig":{"Memory":67108864}}`)}},
		{"BuildKit session", Request{Method: "POST", URI: "/v1.45/session"}},
		{"image load, import, commit, tag, push", Request{Method: "POST", URI: "/v1.45/images/load?quiet=1"}},
		{"network create", Request{Method: "POST", URI: "/v1.45/networks/create", Body: []byte(`{"Name":"n","Driver":"bridge"}`)}},
		{"a plain volume", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"data","Driver":"local","DriverOpts":{}}`)}},
		{"a tmpfs volume", Request{Method: "POST", URI: "/v1.45/volumes/create", Body: []byte(`{"Name":"t","DriverOpts":{"type":"tmpfs","device":"tmpfs","o":"size=100m,uid=1000"}}`)}},
		{"listing plugins", Request{Method: "GET", URI: "/v1.45/plugins"}},
		{"leaving swarm", Request{Method: "POST", URI: "/v1.45/swarm/leave?force=1"}},
		{"deletes", Request{Method: "DELETE", URI: "/v1.45/containers/web?force=1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if decision := Decide(c.request, sandbox); !decision.Allow {
				t.Fatalf("refused: %s", decision.Msg)
			}
		})
	}
}

func TestMessagesAreOneShortLine(t *testing.T) {
	decision := Decide(create(`{"CapAdd":["`+strings.Repeat("X", 500)+`\n"]}`), sandbox)
	if strings.Contains(decision.Msg, "\n") || len(decision.Msg) > 400 {
		t.Fatalf("message %q", decision.Msg)
	}
}
