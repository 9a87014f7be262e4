import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { imagesDir } from '../../runner/src/project-root.js';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { sandboxCapabilities } from '../../runner/src/sandbox/host-config.js';
import { inspectContainer } from '../../runner/src/sandbox/sandbox.js';
import type { Instance } from '../../runner/src/settings.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';

const execFileAsync = promisify(execFile);

/**
 * The sandbox's rights: the narrow set is what the sandbox runs with, the host-wide kernel
 * settings and device rules are out of reach from a learner's shell (and from the sandbox's
 * own root for what is mounted read-only), and Docker still does everything the lessons do.
 */
let engine: Engine;
let instance: Instance;

beforeAll(async () => {
  engine = await connectEngine();
  instance = instanceFor(inject('sandboxEnv'));
});

/** Runs `script` as the sandbox's own root (full sandbox rights, as the engine has them). */
async function asSandboxRoot(script: string): Promise<{ exitCode: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('docker', ['exec', instance.containerName, 'sh', '-c', script]);
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { exitCode: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('the sandbox container', () => {
  it('runs with the measured capabilities only, not --privileged', async () => {
    const container = (await inspectContainer(engine, instance))!;
    expect(container.HostConfig.Privileged).toBe(false);
    expect(container.HostConfig.CapDrop).toEqual(['ALL']);
    expect([...(container.HostConfig.CapAdd ?? [])].sort()).toEqual([...sandboxCapabilities].sort());
    // What the kernel says PID 1 holds: no SYS_MODULE (16), SYS_RAWIO (17), SYS_TIME (25), SYS_BOOT (22).
    const { output } = await asSandboxRoot('grep CapBnd /proc/1/status');
    const bounding = BigInt(`0x${output.trim().split(/\s+/)[1]}`);
    for (const bit of [16, 17, 22, 25]) expect(bounding & (1n << BigInt(bit))).toBe(0n);
    expect(bounding & (1n << 21n)).not.toBe(0n); // SYS_ADMIN, which the engine needs
  });

  it('runs under Docker\'s init, and a learner\'s shell holds no inheritable or ambient rights to take dropped ones back', async () => {
    expect((await inspectContainer(engine, instance))!.HostConfig.Init).toBe(true);
    const shell = await execInSandbox(engine, instance, 'grep -E "^Cap(Inh|Amb|Bnd)" /proc/self/status');
    expect(shell.stdout).toMatch(/^CapInh:\s+0{16}$/m);
    expect(shell.stdout).toMatch(/^CapAmb:\s+0{16}$/m);
    const bounding = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(shell.stdout)![1]}`);
    expect(bounding & (1n << 21n)).toBe(0n); // no SYS_ADMIN at the prompt
  });

  it('keeps global kernel settings read-only even for the sandbox\'s own root; per-network ones stay writable', async () => {
    const corePattern = await asSandboxRoot('echo "|/tmp/x" > /proc/sys/kernel/core_pattern');
    expect(corePattern.exitCode).not.toBe(0);
    expect(corePattern.output).toMatch(/Read-only file system/);
    expect((await asSandboxRoot('echo 1 > /proc/sys/vm/drop_caches')).exitCode).not.toBe(0);
    expect((await asSandboxRoot('echo b > /proc/sysrq-trigger')).exitCode).not.toBe(0);
    expect((await asSandboxRoot('echo 1 > /sys/kernel/profiling')).output).toMatch(/Read-only file system/);
    expect((await asSandboxRoot('cat /proc/sys/net/ipv4/ip_forward > /proc/sys/net/ipv4/ip_forward')).exitCode).toBe(0);
  });
});

describe('a learner\'s shell', () => {
  const refused: Array<[string, string]> = [
    ['writing kernel/core_pattern', 'echo "|/tmp/x" > /proc/sys/kernel/core_pattern'],
    ['remounting /proc/sys writable', 'mount -o remount,rw /proc/sys/kernel'],
    ['mounting a fresh /proc', 'mkdir -p /tmp/p && mount -t proc proc /tmp/p'],
    ['allowing every device', 'echo a > /sys/fs/cgroup/devices/devices.allow'],
    ['mounting a cgroup hierarchy (release_agent)', 'mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg'],
    ['lifting the sandbox\'s memory limit', 'echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes'],
    ['lifting the sandbox\'s process limit', 'echo max > /sys/fs/cgroup/pids/pids.max'],
    ['creating a disk device node', 'mknod /tmp/sda b 8 0'],
    ['changing the sandbox\'s network', 'ip link add dummy0 type dummy'],
    ['loading a kernel module', 'modprobe dummy || insmod /nonexistent.ko'],
    ['setting the clock', 'date -s "2001-01-01"'],
    ['reading the engine\'s memory or environment', 'head -c 1 /proc/1/environ'],
  ];
  for (const [what, script] of refused) {
    it(`is refused ${what}`, async () => {
      const result = await execInSandbox(engine, instance, script);
      expect(result.exitCode, result.stdout + result.stderr).not.toBe(0);
    });
  }

  it('reads its limits (they are its to see, not to change)', async () => {
    const result = await execInSandbox(engine, instance, 'cat /sys/fs/cgroup/pids/pids.max');
    expect(result.stdout.trim()).toMatch(/^\d+$/);
  });

  it('still builds with BuildKit, runs, publishes ports and networks containers', async () => {
    const script = [
      'set -e',
      'dir=$(mktemp -d) && cd "$dir"',
      'printf "FROM busybox:latest\\nRUN echo built > /built && chown 1000:1000 /built\\nCOPY --chown=1000:1000 Dockerfile /df\\nUSER 1000\\nRUN cat /df /built >/dev/null\\n" > Dockerfile',
      'docker build -q -t rights-probe:1 --label layerlab.test=rights . >/dev/null',
      'docker run --rm rights-probe:1 cat /built',
      'docker network create rights-net >/dev/null',
      'docker run -d --name rights-web --network rights-net -p 18081:8081 busybox:latest httpd -f -p 8081 -h /bin >/dev/null',
      'trap "docker rm -f rights-web >/dev/null; docker network rm rights-net >/dev/null; docker rmi rights-probe:1 >/dev/null; rm -rf $dir" EXIT',
      'for i in $(seq 1 30); do curl -sf -o /dev/null http://localhost:18081/busybox && break; sleep 0.2; done',
      'curl -sf -o /dev/null -w "published %{http_code}\\n" http://localhost:18081/busybox',
      'docker run --rm --network rights-net busybox:latest wget -q -O /dev/null http://rights-web:8081/busybox && echo "by name ok"',
      'docker run --rm --memory 64m --pids-limit 64 --user 1000 busybox:latest id -u',
    ].join('\n');
    const result = await execInSandbox(engine, instance, script);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('built');
    expect(result.stdout).toContain('published 200');
    expect(result.stdout).toContain('by name ok');
    expect(result.stdout).toMatch(/^1000$/m);
  });
});

/** What every refusal of the nested engine's authorization plugin starts with. */
const refusal = /authorization denied by plugin layerlab-authz: Layerlab's sandbox refuses /;

describe('the nested engine\'s authorization plugin, from a learner\'s shell', () => {
  it('refuses the unmasked /proc/sys of the core_pattern escape, and core_pattern stays unchanged', async () => {
    const before = (await asSandboxRoot('cat /proc/sys/kernel/core_pattern')).output;
    const result = await execInSandbox(
      engine,
      instance,
      `docker run --rm --security-opt systempaths=unconfined busybox:latest sh -c 'echo "|/tmp/x" > /proc/sys/kernel/core_pattern && echo WRITABLE'`,
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).not.toContain('WRITABLE');
    expect(result.stderr).toMatch(refusal);
    expect(result.stderr).toContain('refuses --security-opt systempaths=unconfined: a writable /proc/sys would give this container the rights to change your own machine\'s kernel');
    expect((await asSandboxRoot('cat /proc/sys/kernel/core_pattern')).output).toBe(before);
  });

  const escapes: Array<[string, string, string]> = [
    ['--privileged', 'docker run --rm --privileged busybox:latest true', 'refuses --privileged: it would give this container the rights to change your own machine\'s kernel'],
    ['--cap-add SYS_ADMIN', 'docker run --rm --cap-add SYS_ADMIN busybox:latest true', 'refuses --cap-add SYS_ADMIN'],
    ['--cap-add ALL', 'docker run --rm --cap-add ALL busybox:latest true', 'refuses --cap-add ALL'],
    ['seccomp=unconfined', 'docker run --rm --security-opt seccomp=unconfined busybox:latest true', 'refuses --security-opt seccomp=unconfined'],
    ['apparmor=unconfined', 'docker run --rm --security-opt apparmor=unconfined busybox:latest true', 'refuses --security-opt apparmor=unconfined'],
    ['a device', 'docker run --rm --device /dev/null:/dev/x busybox:latest true', 'refuses --device'],
    ['a device cgroup rule', 'docker run --rm --device-cgroup-rule "b *:* rwm" busybox:latest true', 'refuses --device-cgroup-rule'],
    ['--pid host', 'docker run --rm --pid host busybox:latest true', 'refuses --pid host'],
    ['--cgroup-parent', 'docker run --rm --cgroup-parent / busybox:latest true', 'refuses --cgroup-parent'],
    ['a bind of /proc', 'docker run --rm -v /proc:/p busybox:latest true', 'refuses -v /proc:/p'],
    ['a non-recursive bind of /proc (the rw procfs under /proc/sys)', 'docker run --rm --mount type=bind,src=/proc,dst=/p,bind-recursive=disabled busybox:latest true', 'refuses --mount type=bind,source=/proc'],
    ['a bind of /sys', 'docker run --rm -v /sys:/s busybox:latest true', 'refuses -v /sys:/s'],
    ['a bind of /dev', 'docker run --rm -v /dev:/d busybox:latest true', 'refuses -v /dev:/d'],
    ['a bind of /', 'docker run --rm -v /:/host busybox:latest true', 'refuses -v /:/host'],
    ['a bind of /etc (ld.so.preload)', 'docker run --rm -v /etc:/h busybox:latest true', 'refuses -v /etc:/h'],
    ['a bind of containerd\'s sockets', 'docker run --rm -v /run/docker/containerd:/c busybox:latest true', 'refuses -v /run/docker/containerd:/c'],
    ['a bind of /var/lib/docker', 'docker run --rm -v /var/lib/docker:/d busybox:latest true', 'refuses -v /var/lib/docker:/d'],
    ['a bind through a symbolic link', 'rm -f /tmp/rights-link && ln -s /proc /tmp/rights-link && docker run --rm -v /tmp/rights-link:/p busybox:latest true', 'goes through a symbolic link (to /proc)'],
    ['a local volume that mounts procfs', 'docker volume create --opt type=proc --opt device=proc rights-proc', 'refuses docker volume create with --driver or --opt (type=proc)'],
    ['a local volume that binds /etc', 'docker volume create --opt type=none --opt device=/etc --opt o=bind rights-etc', 'refuses docker volume create with --driver or --opt (type=none)'],
    ['an inline volume that mounts procfs', 'docker run --rm --mount type=volume,dst=/p,volume-opt=type=proc,volume-opt=device=proc busybox:latest true', 'refuses --mount type=volume'],
    ['a plugin from a local folder', 'd=$(mktemp -d) && mkdir -p $d/rootfs && echo \'{"Interface":{"Types":["docker.authz/1.0"],"Socket":"x.sock"},"Entrypoint":["/x"]}\' > $d/config.json && docker plugin create rights-plugin $d', 'refuses installing, creating or changing engine plugins'],
    ['swarm mode (services with cap_add)', 'docker swarm init', 'refuses swarm mode'],
    ['docker exec --privileged', 'docker run -d --name rights-exec busybox:latest sleep 60 >/dev/null; trap "docker rm -f rights-exec >/dev/null" EXIT; docker exec --privileged rights-exec true', 'refuses docker exec --privileged'],
    // buildx's docker-container driver creates a privileged BuildKit container through the API.
    ['buildx\'s docker-container driver', 'docker tag busybox:latest moby/buildkit:buildx-stable-1 && trap "docker buildx rm rights-builder >/dev/null 2>&1; docker rmi moby/buildkit:buildx-stable-1 >/dev/null" EXIT; docker buildx create --name rights-builder --driver docker-container --bootstrap', 'refuses --privileged'],
    // dockerd's router reads the version as [0-9.]+: "1.45." is a version the plugin must strip too.
    ['capabilities behind the API version "1.45." (the router strips it, so must the plugin)', 'DOCKER_API_VERSION=1.45. docker run --rm --cap-add ALL --security-opt systempaths=unconfined busybox:latest true', 'refuses --cap-add ALL'],
    ['HostConfig\'s fields at the top level of a create, as old clients send them', 'curl -s --unix-socket /var/run/docker.sock -H "Content-Type: application/json" -d \'{"Image":"busybox:latest","CapAdd":["SYS_ADMIN"],"MaskedPaths":[],"ReadonlyPaths":[]}\' http://engine/v1.45/containers/create >&2; false', 'refuses --cap-add SYS_ADMIN'],
    ['the classic builder\'s --cgroup-parent (its steps would leave the learner\'s caps)', 'd=$(mktemp -d) && printf "FROM busybox:latest\\nRUN true\\n" > $d/Dockerfile && DOCKER_BUILDKIT=0 docker build --cgroup-parent=/ $d', 'refuses docker build --cgroup-parent'],
    ['a body the plugin is not shown (not labelled JSON)', 'curl -sf --unix-socket /var/run/docker.sock -H "Content-Type: text/plain" -d \'{"Image":"busybox:latest","HostConfig":{"Privileged":true}}\' http://engine/containers/create || curl -s --unix-socket /var/run/docker.sock -H "Content-Type: text/plain" -d \'{"Image":"busybox:latest","HostConfig":{"Privileged":true}}\' http://engine/containers/create >&2; false', 'could not read what this request asks for'],
  ];
  for (const [what, script, message] of escapes) {
    it(`refuses ${what}, saying what and why`, async () => {
      const result = await execInSandbox(engine, instance, script);
      expect(result.exitCode, result.stdout).not.toBe(0);
      expect(result.stderr).toMatch(refusal);
      expect(result.stderr).toContain(message);
    });
  }

  it('refuses to start a container whose bind was swapped for a link after it was created', async () => {
    const result = await execInSandbox(engine, instance, [
      'rm -rf /tmp/rights-swap && mkdir /tmp/rights-swap',
      'docker create --name rights-swap -v /tmp/rights-swap:/p busybox:latest true >/dev/null',
      'trap "docker rm -f rights-swap >/dev/null" EXIT',
      'rmdir /tmp/rights-swap && ln -s /proc /tmp/rights-swap',
      'docker start rights-swap',
    ].join('\n'));
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('goes through a symbolic link (to /proc)');
  });

  it('mounts the very folder it checked: the engine\'s runtime pins a bind source, so a link swapped in later leads nowhere', async () => {
    // The race a learner would run: swap a checked folder for a link between the plugin's
    // check and runc's mount. Here the swap comes right after the runtime has pinned the
    // source (runc itself then fails on this made-up bundle, which is not what is tested).
    const config = JSON.stringify({ ociVersion: '1.0.2', mounts: [{ destination: '/x', type: 'bind', source: '/tmp/ll-pin-src', options: ['rbind', 'rprivate'] }] });
    const result = await asSandboxRoot([
      'b=/tmp/ll-pin-bundle; rm -rf $b /tmp/ll-pin-src /tmp/ll-pin-moved; mkdir -p $b /tmp/ll-pin-src; echo mine >/tmp/ll-pin-src/marker',
      `printf '%s' '${config}' >$b/config.json`,
      '/usr/local/sbin/layerlab-runc --root /tmp/ll-pin-state create --bundle $b ll-pin-test >/dev/null 2>&1 || :',
      'grep -o "/run/layerlab-binds/ll-pin-test/0" $b/config.json',
      'mv /tmp/ll-pin-src /tmp/ll-pin-moved && ln -s /etc /tmp/ll-pin-src',
      'echo "pinned: $(cat /run/layerlab-binds/ll-pin-test/0/marker)"',
      '/usr/local/sbin/layerlab-runc --root /tmp/ll-pin-state delete ll-pin-test >/dev/null 2>&1 || :',
      '[ -e /run/layerlab-binds/ll-pin-test ] || echo unpinned',
      // Now a link when the runtime looks: refused before runc runs.
      `printf '%s' '${config}' >$b/config.json`,
      '/usr/local/sbin/layerlab-runc --root /tmp/ll-pin-state create --bundle $b ll-pin-test2 2>&1; echo "exit $?"',
      'rm -rf $b /tmp/ll-pin-src /tmp/ll-pin-moved /tmp/ll-pin-state',
    ].join('\n'));
    expect(result.output).toContain('/run/layerlab-binds/ll-pin-test/0');
    expect(result.output).toContain('pinned: mine');
    expect(result.output).toContain('unpinned');
    expect(result.output).toContain('layerlab-runc: the bind source /tmp/ll-pin-src cannot be used: it goes through a symbolic link');
    expect(result.output).toContain('exit 1');
  });

  it('uses the runtime that pins bind sources, and refuses runc by its own name', async () => {
    const result = await execInSandbox(engine, instance, 'docker info --format "{{.DefaultRuntime}}"; docker run --rm --runtime runc busybox:latest true');
    expect(result.stdout.trim()).toBe('layerlab');
    expect(result.stderr).toContain('refuses --runtime runc');
  });

  it('keeps refusing after the engine reloads its settings (SIGHUP)', async () => {
    const result = await execInSandbox(engine, instance, 'kill -HUP 1 && sleep 2 && docker run --rm --privileged busybox:latest true');
    expect(result.stderr).toMatch(refusal);
    expect(result.stderr).toContain('refuses --privileged');
  });

  it('fails closed while the plugin is down, and is back once it restarts', async () => {
    const result = await execInSandbox(engine, instance, [
      'plugin=$(pgrep -x layerlab-authz); supervisor=$(ps -o ppid= -p "$plugin" | tr -d " ")',
      'kill -STOP "$supervisor" && kill -9 "$plugin"',
      'trap "kill -CONT $supervisor" EXIT',
      'sleep 0.5',
      'docker run --rm busybox:latest echo RAN-WITHOUT-PLUGIN',
      'echo "exit $?"',
      'kill -CONT "$supervisor"',
      'for i in $(seq 1 50); do docker version >/dev/null 2>&1 && break; sleep 0.2; done',
      'docker run --rm busybox:latest echo back',
    ].join('\n'));
    expect(result.stdout).not.toContain('RAN-WITHOUT-PLUGIN');
    expect(result.stdout).toMatch(/^exit [1-9]/m);
    expect(result.stdout).toMatch(/^back$/m);
  });
});

describe('containerd, runc and the engine\'s files, from a learner\'s shell', () => {
  it('cannot reach containerd (ctr would run a privileged container without the plugin)', async () => {
    const result = await execInSandbox(engine, instance, [
      'echo "hidden $(find /run/docker /run/containerd -mindepth 1 | wc -l)"',
      'timeout 15 ctr --address /run/docker/containerd/containerd.sock -n moby run --rm --privileged docker.io/library/busybox:latest rights-ctr true',
      'echo "ctr exit $?"',
      'ls /proc/1/root/run/docker',
      'echo "via pid 1 exit $?"',
      'runc --root /run/docker/runtime-runc/moby list',
    ].join('\n'));
    expect(result.stdout).toMatch(/^ctr exit [1-9]/m);
    expect(result.stdout).toMatch(/^via pid 1 exit [1-9]/m);
    expect(result.stdout).toMatch(/^hidden 0$/m); // both folders look empty
    expect(result.exitCode).not.toBe(0);
  });

  const readOnly: Array<[string, string]> = [
    ['/etc/ld.so.preload (a library in every engine process)', 'echo /tmp/x.so > /etc/ld.so.preload'],
    ['the engine\'s programs', 'cp /bin/true /usr/sbin/runc'],
    ['the authorization plugin', 'cp /bin/true /usr/local/sbin/layerlab-authz'],
    ['the engine\'s settings', 'echo {} > /etc/layerlab/daemon.json'],
    ['a plugin spec for the engine to find', 'mkdir -p /etc/docker/plugins && echo unix:///tmp/x.sock > /etc/docker/plugins/layerlab-authz.spec'],
    ['a stored container\'s settings', 'touch /var/lib/docker/containers/x'],
    ['the cgroup caps', 'echo max > /sys/fs/cgroup/pids/learner/pids.max || echo max > /sys/fs/cgroup/learner/pids.max'],
  ];
  for (const [what, script] of readOnly) {
    it(`cannot change ${what}`, async () => {
      const result = await execInSandbox(engine, instance, script);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/Read-only file system/);
    });
  }

  it('still writes its own folders, and sees a container\'s overlay folders appear (lesson 8)', async () => {
    const result = await execInSandbox(engine, instance, [
      'set -e',
      'touch /root/rights-file /tmp/rights-file && rm /root/rights-file /tmp/rights-file && echo writes',
      'docker run -d --name rights-overlay busybox:latest sleep 60 >/dev/null',
      'trap "docker rm -f rights-overlay >/dev/null" EXIT',
      'merged=$(docker inspect -f "{{.GraphDriver.Data.MergedDir}}" rights-overlay)',
      'grep -q " $merged " /proc/self/mountinfo && echo mounted',
      'ls "$merged" | grep -x bin',
    ].join('\n'));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('writes\nmounted\nbin\n');
  });

  it('runs in a sandbox image whose Go plugin is the one in this repository', async () => {
    const dockerfile = await readFile(path.join(imagesDir, 'sandbox', 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('COPY --from=authz /layerlab-authz /usr/local/sbin/layerlab-authz');
    const result = await asSandboxRoot('pgrep -x layerlab-authz >/dev/null && test -S /run/docker/plugins/layerlab-authz.sock && echo up');
    expect(result.output.trim()).toBe('up');
  });
});

describe('what the lessons, the grader and the runner do still works through the plugin', () => {
  it('exec, volumes, save/load, export/import, commit, --read-only, --user, binds of home folders and a registry push', async () => {
    const script = [
      'set -e',
      'dir=$(mktemp -d) && cd "$dir"',
      'trap "docker rm -f rights-app rights-registry >/dev/null 2>&1; docker volume rm rights-data rights-tmpfs >/dev/null 2>&1; docker rmi rights-committed:1 rights-imported:1 localhost:15000/rights:1 >/dev/null 2>&1; rm -rf $dir ~/rights-www" EXIT',
      'docker run -d --name rights-app --memory 64m --user 1000 --read-only busybox:latest sleep 120 >/dev/null',
      'docker exec rights-app id -u',
      'docker exec -u 0 rights-app sh -c "echo exec ok"',
      'docker volume create rights-data >/dev/null && docker volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=8m rights-tmpfs >/dev/null',
      'docker run --rm -v rights-data:/data -v rights-tmpfs:/t busybox:latest sh -c "echo kept > /data/f && echo tmpfs > /t/f"',
      'docker run --rm -v rights-data:/data:ro busybox:latest cat /data/f',
      'mkdir -p ~/rights-www && echo page > ~/rights-www/index.html',
      'docker run --rm -v ~/rights-www:/www busybox:latest cat /www/index.html',
      'docker run --rm --mount type=bind,src="$dir",dst=/d busybox:latest ls /d >/dev/null && echo bind ok',
      'docker run --rm -v /var/run/docker.sock:/var/run/docker.sock busybox:latest ls /var/run/docker.sock >/dev/null && echo socket ok',
      'docker save busybox:latest -o busybox.tar && docker load -i busybox.tar | grep -c Loaded',
      'docker export rights-app > fs.tar && docker import fs.tar rights-imported:1 >/dev/null && echo import ok',
      'docker commit rights-app rights-committed:1 >/dev/null && echo commit ok',
      'docker run -d --name rights-registry -p 15000:5000 registry:2 >/dev/null',
      'docker tag busybox:latest localhost:15000/rights:1',
      'for i in $(seq 1 50); do curl -sf http://localhost:15000/v2/ >/dev/null && break; sleep 0.2; done',
      'docker push -q localhost:15000/rights:1 >/dev/null && echo push ok',
    ].join('\n');
    const result = await execInSandbox(engine, instance, script);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(['1000', 'exec ok', 'kept', 'page', 'bind ok', 'socket ok', '1', 'import ok', 'commit ok', 'push ok', ''].join('\n'));
  });
});

/** A cgroup file of the sandbox, on cgroup v1 (pids hierarchy) or v2. */
const cgroupFile = (group: string, file: string) => `$(f=/sys/fs/cgroup/pids/${group}/${file}; [ -e $f ] || f=/sys/fs/cgroup/${group}/${file}; echo $f)`;

describe('a fork bomb', () => {
  it('in a nested container fills only the containers\' process cap: the engine answers within 30 s and removes it', async () => {
    const result = await execInSandbox(engine, instance, [
      'docker run -d --name rights-bomb busybox:latest sh -c "b() { b | b & }; b; sleep 600" >/dev/null',
      'trap "docker rm -f rights-bomb >/dev/null 2>&1" EXIT',
      `max=$(cat ${cgroupFile('learner', 'pids.max')})`,
      `for i in $(seq 1 150); do current=$(cat ${cgroupFile('learner', 'pids.current')}); [ "$current" -ge $((max - 8)) ] && break; sleep 0.2; done`,
      // The count that reached the cap (read again, it may have dropped as the bomb's processes die and refork).
      'echo "cap $max reached $current"',
      'start=$(date +%s)',
      'timeout 30 docker ps --format "{{.Names}}" | grep -x rights-bomb',
      'echo "ps after $(( $(date +%s) - start )) s"',
      'timeout 60 docker rm -f rights-bomb >/dev/null && echo removed',
    ].join('\n'));
    expect(result.exitCode, result.stderr).toBe(0);
    const [, max, current] = /^cap (\d+) reached (\d+)$/m.exec(result.stdout)!;
    expect(Number(max)).toBeLessThan(4096); // below the sandbox's own cap (the test sandbox has 4096)
    expect(Number(current)).toBeGreaterThanOrEqual(Number(max) - 8); // the bomb really filled it
    expect(result.stdout).toMatch(/^rights-bomb$/m);
    expect(Number(/^ps after (\d+) s$/m.exec(result.stdout)![1])).toBeLessThan(30);
    expect(result.stdout).toMatch(/^removed$/m);
  });

  it('at a learner\'s prompt fills only the shells\' cap, and the engine keeps answering', async () => {
    // A bomb reforks as fast as its processes are killed: stop them all first (a stopped
    // process cannot fork), round after round until none runs, then kill them.
    const procs = cgroupFile('shells', 'cgroup.procs');
    const killShells = [
      `for i in $(seq 1 200); do running=0; for pid in $(cat ${procs}); do state=$(cut -d" " -f3 /proc/$pid/stat 2>/dev/null) || continue; [ "$state" = T ] || { kill -STOP $pid 2>/dev/null; running=1; }; done; [ $running = 0 ] && break; done`,
      `kill -9 $(cat ${procs}) 2>/dev/null`,
      `for i in $(seq 1 50); do [ -z "$(cat ${procs})" ] && break; sleep 0.1; done`,
      `echo "left $(wc -l < ${procs})"`,
    ].join('\n');
    try {
      const bomb = execInSandbox(engine, instance, 'b() { b | b & }; b; sleep 20');
      const watched = await asSandboxRoot([
        `max=$(cat ${cgroupFile('shells', 'pids.max')})`,
        `for i in $(seq 1 150); do current=$(cat ${cgroupFile('shells', 'pids.current')}); [ "$current" -ge $((max - 8)) ] && break; sleep 0.2; done`,
        // The count that reached the cap (read again, it may have dropped as the bomb's processes die and refork).
        'echo "cap $max reached $current"',
        'timeout 30 docker run --rm busybox:latest echo engine-answers',
      ].join('\n'));
      expect(watched.exitCode, watched.output).toBe(0);
      const [, max, current] = /^cap (\d+) reached (\d+)$/m.exec(watched.output)!;
      expect(Number(max)).toBeLessThan(4096);
      expect(Number(current)).toBeGreaterThanOrEqual(Number(max) - 8);
      expect(watched.output).toMatch(/^engine-answers$/m);
      expect((await asSandboxRoot(killShells)).output).toMatch(/^left 0$/m);
      await bomb;
    } finally {
      await asSandboxRoot(killShells);
    }
  });
});
