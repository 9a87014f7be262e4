import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
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
    // What the kernel says PID 1 holds: no SYS_MODULE (16), SYS_RAWIO (17), SYS_TIME (25), SYS_PTRACE (19).
    const { output } = await asSandboxRoot('grep CapBnd /proc/1/status');
    const bounding = BigInt(`0x${output.trim().split(/\s+/)[1]}`);
    for (const bit of [16, 17, 19, 25]) expect(bounding & (1n << BigInt(bit))).toBe(0n);
    expect(bounding & (1n << 21n)).not.toBe(0n); // SYS_ADMIN, which the engine needs
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
