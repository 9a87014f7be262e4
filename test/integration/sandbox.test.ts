import { inject, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import type { SandboxStatus } from '../../runner/src/sandbox/status.js';
import type { Instance } from '../../runner/src/settings.js';
import { runCourse } from '../support/run-course.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';

const GiB = 1024 ** 3;

describe('the shared test sandbox', () => {
  const sandboxEnv = inject('sandboxEnv');
  let engine: Engine;
  let instance: Instance;

  beforeAll(async () => {
    engine = await connectEngine();
    instance = instanceFor(sandboxEnv);
  });

  it('runs with the limits it was given and reports them in `course status --json`', async () => {
    const { exitCode, stdout } = await runCourse(['status', '--json'], sandboxEnv);
    expect(exitCode).toBe(0);
    const status = JSON.parse(stdout) as SandboxStatus;
    expect(status.sandbox.state).toBe('running');
    expect(status.sandbox.limits).toEqual({ memoryBytes: 3 * GiB, cpus: 2, pids: 4096 });
    expect(status.sandbox.privilegeMode).toBe('least-privilege');

    const container = await engine.docker.getContainer(instance.containerName).inspect();
    expect(container.HostConfig.Memory).toBe(3 * GiB);
    expect(container.HostConfig.PidsLimit).toBe(4096);
    expect(container.Config.Labels?.['layerlab.role']).toBe('sandbox');
  });

  it.each([
    [['--cpus', '999'], '--cpus 999 is more than this machine has'],
    [['--memory', '99999999g'], '--memory 99999999 GiB is more than this machine has'],
  ])('refuses `course up %s` before touching the sandbox, which keeps running as it was', async (flags, message) => {
    const before = await engine.docker.getContainer(instance.containerName).inspect();
    const { exitCode, stderr } = await runCourse(['up', ...flags], sandboxEnv);
    expect(exitCode).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain('Your sandbox was not changed.');
    const after = await engine.docker.getContainer(instance.containerName).inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
  });

  it('has a nested engine that answers on the socket and holds the base images by their usual names', async () => {
    const nested = await connectNestedEngine(instance);
    expect(nested.version).toMatch(/^\d+\.\d+/);
    const tags = (await nested.docker.listImages()).flatMap((image) => image.RepoTags ?? []);
    expect(tags).toEqual(expect.arrayContaining(['golang:1.24', 'debian:trixie-slim', 'busybox:latest']));
    expect(tags.filter((tag) => tag.startsWith('layerlab/'))).toEqual([]);
  });

  it('caps learner containers below the sandbox limit, so an out-of-memory container dies alone', async () => {
    const cap = await execInSandbox(
      engine,
      instance,
      'cat /sys/fs/cgroup/memory/learner/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/learner/memory.max',
    );
    expect(Number(cap.stdout.trim())).toBe(3 * GiB - 512 * 1024 ** 2);

    // A program that keeps allocating and touching memory, built offline in the sandbox.
    const hog = await execInSandbox(
      engine,
      instance,
      `set -e
      mkdir -p /tmp/memhog && cd /tmp/memhog
      printf 'module example.com/memhog\\n\\ngo 1.24\\n' > go.mod
      printf '%s' "$FILE_main_go" > main.go
      printf '%s' "$FILE_Dockerfile" > Dockerfile
      docker build -q -t memhog . >/dev/null
      docker run --name memhog memhog >/dev/null 2>&1 || true
      docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' memhog
      docker rm memhog >/dev/null; docker rmi memhog >/dev/null; rm -rf /tmp/memhog`,
      { main_go: memoryHogSource, Dockerfile: staticGoDockerfile('memhog') },
    );
    expect(hog.stderr).toBe('');
    expect(hog.stdout.trim()).toBe('true 137');
    const container = await engine.docker.getContainer(instance.containerName).inspect();
    expect(container.State.Running).toBe(true);
    expect(container.State.OOMKilled).toBe(false);
    await connectNestedEngine(instance);
  });

  it('builds a multi-stage Go program offline with BuildKit, and the image runs', async () => {
    const build = await execInSandbox(
      engine,
      instance,
      `set -e
      mkdir -p /tmp/hello && cd /tmp/hello
      printf 'module example.com/hello\\n\\ngo 1.24\\n' > go.mod
      printf '%s' "$FILE_main_go" > main.go
      printf '%s' "$FILE_Dockerfile" > Dockerfile
      docker build --progress=plain -t hello-multistage . 2>&1
      docker run --rm hello-multistage
      docker image inspect -f '{{len .RootFS.Layers}}' hello-multistage
      docker history --format '{{.Comment}}' hello-multistage | sort -u
      docker rmi hello-multistage >/dev/null; rm -rf /tmp/hello`,
      { main_go: helloSource, Dockerfile: staticGoDockerfile('hello') },
    );
    expect(build.exitCode, build.stdout + build.stderr).toBe(0);
    expect(build.stdout).toContain('building with "default" instance using docker driver');
    expect(build.stdout).toContain('hello from the final stage');
    expect(build.stdout).toMatch(/^1$/m);
    expect(build.stdout).toContain('buildkit.dockerfile.v0');
  });

  it('gives the learner a shell whose prompt says it is the sandbox', async () => {
    const shell = await execInSandbox(engine, instance, 'bash -ic \'echo "$PS1"\' 2>/dev/null');
    expect(shell.stdout).toContain('sandbox');
    expect(shell.stdout).toContain('Layerlab sandbox');
  });
});

const memoryHogSource = `package main

import "fmt"

func main() {
	var keep [][]byte
	for i := 1; ; i++ {
		b := make([]byte, 100<<20)
		for j := range b {
			b[j] = 1
		}
		keep = append(keep, b)
		fmt.Println("allocated MiB:", i*100)
	}
}
`;

const helloSource = `package main

import "fmt"

func main() { fmt.Println("hello from the final stage") }
`;

/** Two stages: build a static binary with the Go toolchain, ship it alone on scratch. */
function staticGoDockerfile(name: string): string {
  return `FROM golang:1.24 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/${name} .

FROM scratch
COPY --from=build /out/${name} /${name}
ENTRYPOINT ["/${name}"]
`;
}
