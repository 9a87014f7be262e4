import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { readAsContainer } from '../../runner/src/grader/container-file.js';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import { openLayerFactsCache } from '../../runner/src/grader/facts/layer-cache.js';
import { fileContains } from '../../runner/src/grader/kinds/file-contains.js';
import type { ImageFacts, LayerFolders } from '../../runner/src/grader/types.js';
import { sandboxLayerFolders } from '../../runner/src/sandbox/layer-folders.js';
import { execInSandbox } from '../support/sandbox-exec.js';
import { instanceFor } from '../support/sandbox-env.js';
import { testLabel } from '../support/test-run.js';
import { useSandboxImage } from '../support/sandbox-image.js';

/**
 * A path a check reads may be a symlink (or lie under one) to the file that holds the bytes:
 * gathering keeps the target's bytes, found only once the layers have been read, from the
 * layer folders, from `docker save` and from the layer cache alike, and a container run of
 * the same image reads the very bytes the facts hold (or fails where the facts say nothing
 * is there).
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const tag = `ll-link-targets:${runId}`;


const dockerfile = String.raw`
FROM busybox:latest
RUN mkdir -p /data/dir /data/chain && echo 'absolute, across layers' > /data/motd && echo 'under a linked folder' > /data/dir/code.txt \
 && echo 'end of the chain' > /data/chain/end && echo 'hard-linked original' > /data/original && ln /data/original /data/hardlink \
 && echo 'replaced later' > /data/replaced && echo 'deleted later' > /data/deleted && head -c 70000 /dev/zero > /data/big
RUN mkdir -p /etc/course /srv/app && ln -s /data/motd /etc/course/absolute && ln -s ../../data/motd /etc/course/relative \
 && ln -s /data/dir /recovered && ln -s ../data/chain/end /srv/step2 && ln -s /srv/step2 /srv/step1 && ln -s step1 /srv/app/../start \
 && ln -s /data/hardlink /etc/course/to-hardlink && ln -s /data/replaced /etc/course/to-replaced && ln -s /data/deleted /etc/course/to-deleted \
 && ln -s /nowhere/at/all /etc/course/dangling && ln -s /proc/version /etc/course/kernel && ln -s loop-b /etc/course/loop-a && ln -s loop-a /etc/course/loop-b \
 && ln -s /data/big /etc/course/big && ln -s /data /etc/course/folder && echo 'same layer' > /srv/here && ln -s here /srv/same-layer \
 && ln -s ../../../../../data/motd /etc/course/escaping
RUN echo 'what a container reads now' > /data/replaced && rm /data/deleted
`;

/** Each path a check asks for, and what `cat` of it in a container of the image prints (undefined: cat fails). */
const expected: Record<string, string | undefined> = {
  '/etc/course/absolute': 'absolute, across layers\n',
  '/etc/course/relative': 'absolute, across layers\n',
  '/etc/course/escaping': 'absolute, across layers\n',
  '/recovered/code.txt': 'under a linked folder\n',
  '/srv/start': 'end of the chain\n',
  '/etc/course/to-hardlink': 'hard-linked original\n',
  '/etc/course/to-replaced': 'what a container reads now\n',
  '/srv/same-layer': 'same layer\n',
  '/etc/course/to-deleted': undefined,
  '/etc/course/dangling': undefined,
  '/etc/course/loop-a': undefined,
};
const probes = { fileContents: [...Object.keys(expected), '/etc/course/kernel', '/etc/course/big', '/etc/course/folder'] };

const engines = useSandboxImage({ instance, runId, tag, dockerfile });

/** Each asked-for path as the facts read it: the bytes as text, or the state that holds none. */
function reads(facts: ImageFacts): Record<string, string> {
  return Object.fromEntries(
    probes.fileContents.map((filePath) => {
      const read = readAsContainer(facts, filePath);
      if (read.state !== 'found') return [filePath, read.state];
      return [filePath, read.file.content?.toString('utf8') ?? `${read.file.type} without bytes, ${read.file.sizeBytes} B`];
    }),
  );
}

/** Counts the layers the folders handed over. */
function counting(folders: LayerFolders): { folders: LayerFolders; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    folders: {
      ...folders,
      readConfig: (imageId) => folders.readConfig(imageId),
      async readLayer(diffIds, signal, keepContentOf) {
        read++;
        return await folders.readLayer(diffIds, signal, keepContentOf);
      },
    },
  };
}

describe('a path read through symlinks is judged by its target’s bytes', () => {
  it('matches what a container of the image reads, from docker save and from the layer folders', async () => {
    const ran = await execInSandbox(
      engines.host,
      instance,
      `for p in ${Object.keys(expected).join(' ')}; do if out=$(docker run --rm --label ${testLabel}=${runId} ${tag} cat "$p" 2>/dev/null); then printf '%s\\t%s\\n' "$p" "$out"; else printf '%s\\t-\\n' "$p"; fi; done`,
    );
    expect(ran.exitCode, ran.stderr).toBe(0);
    const container = Object.fromEntries(ran.stdout.trim().split('\n').map((line) => line.split('\t') as [string, string]));
    // The table above is what a container really reads (the command substitution drops the final newline).
    expect(container).toEqual(Object.fromEntries(Object.entries(expected).map(([filePath, text]) => [filePath, text === undefined ? '-' : text.trimEnd()])));

    const fromSave = await gatherImageFacts(engines.nested, tag, { probes });
    const { folders, read } = counting(sandboxLayerFolders(async () => engines.host, instance));
    const fromFolders = await gatherImageFacts(engines.nested, tag, { probes, layerFolders: folders });
    const wanted = {
      ...Object.fromEntries(Object.entries(expected).map(([filePath, text]) => [filePath, text ?? (filePath.endsWith('loop-a') ? 'loop' : 'dangling')])),
      '/etc/course/kernel': 'dangling',
      '/etc/course/big': 'file without bytes, 70000 B',
      '/etc/course/folder': 'directory without bytes, 0 B',
    };
    expect(reads(fromSave!)).toEqual(wanted);
    expect(reads(fromFolders!)).toEqual(wanted);
    // Each of the 4 layers once, then again only the 3 that hold a target's bytes (busybox's none).
    expect(read()).toBe(4 + 3);
  });

  it('keeps the targets’ bytes in the layer cache, so a second check reads nothing', async () => {
    const cacheFolder = await mkdtemp(path.join(os.tmpdir(), 'll-link-cache-'));
    try {
      const layerCache = openLayerFactsCache(cacheFolder);
      const first = await gatherImageFacts(engines.nested, tag, { probes, layerCache, layerFolders: sandboxLayerFolders(async () => engines.host, instance) });
      const { folders, read } = counting(sandboxLayerFolders(async () => engines.host, instance));
      const second = await gatherImageFacts(engines.nested, tag, { probes, layerCache, layerFolders: folders });
      expect(read()).toBe(0);
      expect(reads(second!)).toEqual(reads(first!));
      expect(reads(second!)['/recovered/code.txt']).toBe('under a linked folder\n');
    } finally {
      await rm(cacheFolder, { recursive: true, force: true });
    }
  });

  it('passes file-contains through a link and says why a link that leads nowhere or out of the image does not', async () => {
    const facts = (await gatherImageFacts(engines.nested, tag, { probes }))!;
    const judge = (filePath: string, text: string) => fileContains.evaluate(facts, { path: filePath, text });
    expect(judge('/recovered/code.txt', 'under a linked folder')).toMatchObject({ status: 'pass', actual: expect.stringContaining('through /recovered -> /data/dir') });
    expect(judge('/srv/start', 'end of the chain')).toMatchObject({ status: 'pass' });
    expect(judge('/etc/course/to-replaced', 'replaced later')).toMatchObject({ status: 'fail' });
    expect(judge('/etc/course/kernel', 'Linux')).toMatchObject({ status: 'fail', message: expect.stringContaining('leads out of the image, to /proc/version') });
    expect(judge('/etc/course/to-deleted', 'deleted later')).toMatchObject({ status: 'fail', message: expect.stringContaining('the image has no /data/deleted') });
    expect(judge('/etc/course/loop-a', 'x')).toMatchObject({ status: 'fail', message: expect.stringContaining('loop of symlinks') });
  });
});
