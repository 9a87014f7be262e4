import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { execIn } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { instanceFor } from '../support/sandbox-env.js';

/**
 * What a lesson says about an engine its replay (`lessons:verify`) cannot show, re-checked
 * here so that it stays true when Docker changes. Lesson 5 shows `COPY --link` on the
 * sandbox's engine (classic image store: the flag changes nothing) and says what it does on
 * an engine with the containerd image store: the linked layer is the same on a new base,
 * and a plain COPY's is not. Both halves are measured here, on the same Dockerfiles.
 */

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);

// A second engine inside the test sandbox, with the containerd snapshotter on: its root on a
// tmpfs (overlayfs cannot sit on the sandbox's overlay root), no bridge (builds use
// RUN --network=none), its own network namespace (a dockerd with --bridge none deletes any
// docker0 it sees, here the sandbox engine's). As in image-reader.test.ts.
const storeName = `ll-claims-${runId}`;
const storeSocket = `/run/${storeName}.sock`;
const storeRoot = `/var/lib/${storeName}`;
const storeDocker = `DOCKER_HOST=unix://${storeSocket} docker`;
const workDir = `/tmp/${storeName}-work`;
const tag = (name: string) => `ll-claims-${name}:${runId}`;
const label = `--label layerlab.test=${runId}`;

let host: Engine;

/** The lesson's base (release N) and two images on it: one with COPY --link, one with a plain COPY. */
function buildOnBase(docker: string, release: number): string {
  return [
    `${docker} build -q ${label} -f Dockerfile.base --build-arg RELEASE=${release} -t ${tag('base')} . >/dev/null`,
    `${docker} build -q ${label} -f Dockerfile.link -t ${tag(`link-${release}`)} . >/dev/null`,
    `${docker} build -q ${label} -f Dockerfile.plain -t ${tag(`plain-${release}`)} . >/dev/null`,
  ].join('\n');
}

function topLayer(docker: string, image: string): string {
  return `${docker} image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' ${image} | sed '/^$/d' | tail -n 1`;
}

/** Builds on releases 1 and 2 of the base, and prints the four top layers: link-1 link-2 plain-1 plain-2. */
async function topLayersAcrossReleases(docker: string): Promise<string[]> {
  const script = [
    'set -e',
    `cd ${workDir}`,
    buildOnBase(docker, 1),
    // A layer stores file times in whole seconds: a copy redone within the same second as the
    // first would make the same layer, and hide the difference being measured.
    'sleep 1',
    buildOnBase(docker, 2),
    ...['link-1', 'link-2', 'plain-1', 'plain-2'].map((name) => topLayer(docker, tag(name))),
  ].join('\n');
  return (await execIn(host, instance, ['sh', '-c', script])).trim().split('\n');
}

beforeAll(async () => {
  host = await connectEngine();
  const setup = [
    'set -e',
    `mkdir -p ${workDir} && cd ${workDir}`,
    `echo 'echo hello' > app.sh`,
    `printf 'FROM busybox:latest\\nARG RELEASE\\nRUN --network=none echo "base release $RELEASE" > /etc/base-release\\n' > Dockerfile.base`,
    `printf 'FROM ${tag('base')}\\nCOPY --link app.sh /app/\\n' > Dockerfile.link`,
    `printf 'FROM ${tag('base')}\\nCOPY app.sh /app/\\n' > Dockerfile.plain`,
    `mkdir -p ${storeRoot} /etc/${storeName}`,
    `mount -t tmpfs -o size=512m tmpfs ${storeRoot}`,
    `echo '{"features":{"containerd-snapshotter":true}}' > /etc/${storeName}/daemon.json`,
    `setsid unshare --net dockerd --config-file /etc/${storeName}/daemon.json --data-root ${storeRoot} --exec-root /run/${storeName} --pidfile /run/${storeName}.pid -H unix://${storeSocket} --bridge none --iptables=false --ip6tables=false >/tmp/${storeName}.log 2>&1 < /dev/null &`,
    `for i in $(seq 1 240); do ${storeDocker} info >/dev/null 2>&1 && break; sleep 0.5; done`,
    `${storeDocker} info >/dev/null 2>&1 || { cat /tmp/${storeName}.log; exit 1; }`,
    `docker save busybox:latest | ${storeDocker} load >/dev/null`,
  ].join('\n');
  await execIn(host, instance, ['sh', '-c', setup]);
});

afterAll(async () => {
  const stop = [
    `if [ -f /run/${storeName}.pid ]; then kill $(cat /run/${storeName}.pid) || true; fi`,
    `for i in $(seq 1 60); do [ -f /run/${storeName}.pid ] || break; sleep 0.5; done`,
    `umount -l ${storeRoot} 2>/dev/null || true`,
    `rm -rf ${storeRoot} /etc/${storeName} /run/${storeName} /tmp/${storeName}* ${storeSocket}`,
  ].join('\n');
  await execIn(host, instance, ['sh', '-c', stop]).catch(() => {});
  if (host) await removeTestObjects((await connectNestedEngine(instance)).docker, runId);
});

describe('lesson 5: COPY --link', () => {
  it('on the containerd image store, keeps the linked layer when the base changes, and a plain COPY does not', async () => {
    const [link1, link2, plain1, plain2] = await topLayersAcrossReleases(storeDocker);
    expect(link2, 'COPY --link made a new layer on the new base').toBe(link1);
    expect(plain2, 'a plain COPY kept its layer on a new base').not.toBe(plain1);
  });

  it("on the sandbox's classic store, copies again on a new base, with or without --link", async () => {
    const [link1, link2, plain1, plain2] = await topLayersAcrossReleases('docker');
    expect(link2, 'COPY --link kept its layer on the classic store: lesson 5 says it does not').not.toBe(link1);
    expect(plain2).not.toBe(plain1);
  });
});
