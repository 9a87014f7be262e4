import sax from 'sax';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import tar from 'tar-stream';
import { connectEngine, type Engine } from '../../runner/src/engine.js';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import { readImageArchive, type ImageArchive } from '../../runner/src/grader/facts/image-archive.js';
import { feed } from '../../runner/src/grader/facts/layer-tar.js';
import { mergeLayers } from '../../runner/src/grader/facts/merged-view.js';
import { findExercise } from '../../exercises/index.js';
import { sandboxAddress } from '../../runner/src/grade-and-record.js';
import { gradeExercise } from '../../runner/src/grader/grade.js';
import { renderJson } from '../../runner/src/grader/report/json.js';
import { renderJunit } from '../../runner/src/grader/report/junit.js';
import { escapeLine } from '../../runner/src/grader/report/untrusted.js';
import { renderText } from '../../runner/src/grader/report/text.js';
import { connectNestedEngine } from '../../runner/src/sandbox/nested-engine.js';
import { buildInSandbox, execIn } from '../support/build-image.js';
import { removeTestObjects } from '../support/cleanup.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';

/**
 * The image reader on real images: names no terminal should see raw, and the containerd
 * image store (Docker Desktop's and Engine 29's default), whose `docker save` is an OCI
 * layout of compressed blobs behind an index inside an index.
 */

const runId = inject('testRunId');
const sandboxEnv = inject('sandboxEnv');
const instance = instanceFor(sandboxEnv);
const labels = { [testLabel]: runId };
const tag = (name: string) => `ll-reader-${name}:${runId}`;

/** Raw bytes a hostile image can carry in a name or an instruction. */
const esc = '\u001b';
const bel = '\u0007';
const hostileName = `/opt/${esc}]0;pwned${bel}${esc}[2J<x a="1">&amp;\n\u202egnp.exe\u009b31m`;
const rawControls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const hostileDockerfile = [
  'FROM golang:1.24 AS tools',
  'FROM busybox:latest',
  'COPY --from=tools /usr/bin/make /opt/m',
  // busybox printf turns the octal escapes into the raw bytes: ESC, BEL, U+202E, U+009B.
  `RUN mv /opt/m "$(printf '/opt/\\033]0;pwned\\007\\033[2J<x a="1">&amp;\\n\\342\\200\\256gnp.exe\\302\\23331m')"`,
  // A name whose newline would forge a line of the report, as if a check had passed.
  `RUN cp /opt/*gnp.exe* "$(printf '/opt/tool\\n✓ Forged line [no-build-tools]')"`,
  `RUN echo "${esc}]0;instruction${bel}" > /dev/null`,
  'CMD ["httpd", "-f", "-p", "8080", "-h", "/var/www"]',
].join('\n');

/** For the containerd store: a hard link whose original a later layer deletes. */
const linkDockerfile = ['FROM busybox:latest', 'COPY a.txt /srv/a.txt', 'RUN --network=none ln /srv/a.txt /srv/b.txt', 'RUN --network=none rm /srv/a.txt'].join('\n');

let host: Engine;
let nested: Engine;
const storeSocket = `/run/ll-ctrd-${runId}.sock`;
const storeRoot = `/var/lib/ll-ctrd-${runId}`;
const storeDocker = `DOCKER_HOST=unix://${storeSocket} docker`;

/**
 * A second engine inside the test sandbox, with the containerd snapshotter on. Its root is a
 * tmpfs (overlayfs cannot sit on the sandbox's own overlay root); it has no bridge, so its
 * builds use RUN --network=none. It runs in a network namespace of its own: a dockerd started
 * with `--bridge none` deletes any `docker0` it sees, which here is the sandbox engine's, and
 * every later container in the shared sandbox would fail to start. Its socket stays inside the
 * sandbox: what it saves is copied out with the host engine's archive API and read as
 * `docker save` output.
 */
async function startContainerdStoreEngine(): Promise<void> {
  const script = [
    'set -e',
    `mkdir -p ${storeRoot} /etc/ll-ctrd-${runId}`,
    `mount -t tmpfs -o size=1g tmpfs ${storeRoot}`,
    `echo '{"features":{"containerd-snapshotter":true}}' > /etc/ll-ctrd-${runId}/daemon.json`,
    `setsid unshare --net dockerd --config-file /etc/ll-ctrd-${runId}/daemon.json --data-root ${storeRoot} --exec-root /run/ll-ctrd-${runId} --pidfile /run/ll-ctrd-${runId}.pid -H unix://${storeSocket} --bridge none --iptables=false --ip6tables=false >/tmp/ll-ctrd-${runId}.log 2>&1 < /dev/null &`,
    `for i in $(seq 1 240); do ${storeDocker} info >/dev/null 2>&1 && exit 0; sleep 0.5; done`,
    `cat /tmp/ll-ctrd-${runId}.log; exit 1`,
  ].join('\n');
  await execIn(host, instance, ['sh', '-c', script]);
}

async function buildOnContainerdStore(name: string, extraArgs: string[]): Promise<void> {
  const dir = `/tmp/ll-ctrd-build-${runId}-${name}`;
  const script = [
    'set -e',
    `mkdir -p ${dir} && cd ${dir}`,
    `printf 'hi\\n' > a.txt`,
    `cat > Dockerfile <<'EOF'\n${linkDockerfile}\nEOF`,
    `${storeDocker} buildx build -q ${extraArgs.join(' ')} .`,
    `${storeDocker} save -o /tmp/ll-ctrd-${runId}-${name}.tar ${tag(name)}`,
    `rm -rf ${dir}`,
  ].join('\n');
  await execIn(host, instance, ['sh', '-c', script]);
}

/** The saved archive, streamed out of the sandbox (docker cp's API wraps it in a tar of its own). */
async function readSavedArchive(name: string): Promise<ImageArchive> {
  const wrapped = (await host.docker.getContainer(instance.containerName).getArchive({ path: `/tmp/ll-ctrd-${runId}-${name}.tar` })) as unknown as AsyncIterable<Buffer>;
  const outer = tar.extract();
  const feeding = feed(wrapped, outer);
  let archive: ImageArchive | undefined;
  for await (const entry of outer) {
    if (archive) entry.resume();
    else archive = await readImageArchive(entry as AsyncIterable<Buffer>, { keepContentOf: new Set(['srv/b.txt']) });
  }
  await feeding;
  if (!archive) throw new Error(`nothing was copied out for ${name}`);
  return archive;
}

beforeAll(async () => {
  host = await connectEngine();
  nested = await connectNestedEngine(instance);
  await buildInSandbox(host, instance, { context: new Map([['Dockerfile', Buffer.from(hostileDockerfile)]]), tag: tag('hostile'), labels });
  await buildInSandbox(host, instance, { context: new Map([['Dockerfile', Buffer.from(linkDockerfile)], ['a.txt', Buffer.from('hi\n')]]), tag: tag('link'), labels });
  await startContainerdStoreEngine();
  await execIn(host, instance, ['sh', '-c', `docker save busybox:latest | ${storeDocker} load`]);
  await buildOnContainerdStore('gzip', ['-t', tag('gzip')]);
  await buildOnContainerdStore('zstd', ['--output', `type=image,name=${tag('zstd')},compression=zstd,force-compression=true`]);
});

afterAll(async () => {
  const stop = [
    `if [ -f /run/ll-ctrd-${runId}.pid ]; then kill $(cat /run/ll-ctrd-${runId}.pid) || true; fi`,
    `for i in $(seq 1 60); do [ -f /run/ll-ctrd-${runId}.pid ] || break; sleep 0.5; done`,
    `umount -l ${storeRoot} 2>/dev/null || true`,
    `rm -rf ${storeRoot} /etc/ll-ctrd-${runId} /run/ll-ctrd-${runId} /tmp/ll-ctrd-${runId}* ${storeSocket}`,
  ].join('\n');
  await execIn(host, instance, ['sh', '-c', stop]).catch(() => {});
  await removeTestObjects(nested.docker, runId);
});

describe('an image whose names and instructions hold terminal escapes', () => {
  it('is reported with every control character visible: text, JUnit (well-formed XML 1.0) and JSON (exact)', async () => {
    const run = await gradeExercise({ exercise: findExercise('lesson-7'), engine: nested, image: tag('hostile'), publishedPortHost: await sandboxAddress(instance), labels });
    const tools = run.checks.find((check) => check.id === 'no-build-tools')!;
    expect(tools.status).toBe('fail');
    // In the message, the name is one line whatever it holds (in every format: text, JUnit and JSON carry the message).
    expect(tools.message).toContain(escapeLine(hostileName));
    expect(tools.message).toContain('/opt/tool\\n✓ Forged line [no-build-tools]');
    expect(tools.message).not.toContain('\n✓');

    const text = renderText(run);
    expect(text).not.toMatch(rawControls);
    expect(text.split('\n').filter((line) => /^\s*✓ Forged/.test(line))).toEqual([]);
    expect(text).toContain('&amp;\\n\\u202egnp.exe');
    expect(text).toContain('/opt/\\e]0;pwned\\a\\e[2J<x a="1">&amp;');
    expect(text).toContain('\\u202egnp.exe\\x9b31m');
    expect(text).toContain('RUN echo "\\e]0;instruction\\a" > /dev/null');

    const junit = renderJunit(run);
    let body = '';
    const parser = sax.parser(true);
    parser.onerror = (error: Error) => {
      throw error;
    };
    parser.ontext = (value: string) => (body += value);
    parser.write(junit).close();
    expect(body).toContain('/opt/\\e]0;pwned\\a\\e[2J<x a="1">&amp;');
    expect(junit).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);

    const json = renderJson(run);
    expect(json).not.toMatch(rawControls);
    expect(JSON.parse(json).checks.find((check: { id: string }) => check.id === 'no-build-tools').message).not.toContain('\n✓');
    expect(JSON.parse(json).layers.flatMap((layer: { buildTools: string[] }) => layer.buildTools)).toContain(hostileName);
  });
});

describe('a hard link whose original a later layer deletes (classic store: the layer holds both names)', () => {
  it('is a regular file with the original\'s bytes, as a container sees it', async () => {
    const facts = await gatherImageFacts(nested, tag('link'), { probes: { fileContents: ['/srv/b.txt'] } });
    const linking = facts!.layers[2]!;
    expect(linking.entries.filter((entry) => entry.path.startsWith('srv/'))).toEqual([
      { path: 'srv/a.txt', type: 'file', sizeBytes: 3, mode: expect.any(Number) },
      expect.objectContaining({ path: 'srv/b.txt', type: 'hardlink', sizeBytes: 0, linkTarget: 'srv/a.txt' }),
    ]);
    expect(facts!.files.has('srv/a.txt')).toBe(false);
    expect(facts!.files.get('srv/b.txt')).toMatchObject({ type: 'file', sizeBytes: 3, hardLinkTo: 'srv/a.txt', content: Buffer.from('hi\n') });
  });
});

describe('the containerd image store', () => {
  const read = async (name: string) => {
    const archive = await readSavedArchive(name);
    return { archive, files: mergeLayers(archive.layers.map((layer) => layer.contents)).files };
  };

  it('leaves the sandbox engine\'s own bridge in place, so its containers still get a network', async () => {
    await expect(execIn(host, instance, ['ip', 'link', 'show', 'docker0'])).resolves.toContain('docker0');
  });

  it('is really in use by the second engine', async () => {
    const status = await execIn(host, instance, ['sh', '-c', `${storeDocker} info --format '{{json .DriverStatus}}'`]);
    expect(status).toContain('io.containerd.snapshotter.v1');
  });

  it('saves compressed layers behind an index inside an index, and every one is read', async () => {
    const { archive } = await read('gzip');
    expect(archive.layout).toBe('oci');
    expect(archive.layers).toHaveLength(4);
    expect(archive.layers.map((layer) => layer.unreadable)).toEqual([undefined, undefined, undefined, undefined]);
    expect(archive.layers.slice(1).map((layer) => layer.compression)).toEqual(['gzip', 'gzip', 'gzip']);
    expect(archive.layers[0]!.contents!.entryCount).toBeGreaterThan(200); // busybox and its applets' links
    expect(archive.config.rootfs?.diff_ids).toHaveLength(4);
  });

  it('keeps the linked file when its original is deleted (containerd\'s differ writes it as a plain file)', async () => {
    const { files } = await read('gzip');
    expect(files.has('srv/a.txt')).toBe(false);
    expect(files.get('srv/b.txt')).toMatchObject({ type: 'file', sizeBytes: 3, content: Buffer.from('hi\n') });
  });

  it('reads zstd layers', async () => {
    const { archive, files } = await read('zstd');
    expect(archive.layers.slice(1).map((layer) => layer.compression)).toEqual(['zstd', 'zstd', 'zstd']);
    expect(archive.layers.map((layer) => layer.unreadable)).toEqual([undefined, undefined, undefined, undefined]);
    expect(files.get('srv/b.txt')).toMatchObject({ type: 'file', content: Buffer.from('hi\n') });
  });
});
