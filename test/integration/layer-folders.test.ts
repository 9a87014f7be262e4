import { describe, expect, inject, it } from 'vitest';
import { gatherImageFacts } from '../../runner/src/grader/facts/gather.js';
import type { LayerEntry } from '../../runner/src/grader/facts/layer-tar.js';
import type { ImageFacts, LayerFolders, ProbeNeeds } from '../../runner/src/grader/types.js';
import { sandboxLayerFolders } from '../../runner/src/sandbox/layer-folders.js';
import { instanceFor } from '../support/sandbox-env.js';
import { useSandboxImage } from '../support/sandbox-image.js';

/**
 * The grader reads the sandbox engine's layer folders (overlay2 `diff` folders, tarred in the
 * sandbox) instead of `docker save`: the facts must be the very ones `docker save` gives,
 * entry for entry, on real images: deletions (whiteouts), opaque folders, hard links within
 * and across layers, symlinks, odd and long names, special modes, and golang:1.24 whole.
 */

const runId = inject('testRunId');
const instance = instanceFor(inject('sandboxEnv'));
const tag = `ll-layer-folders:${runId}`;


/** Builds on busybox (a small real base) with BuildKit, as a learner would. */
const dockerfile = String.raw`
FROM busybox:latest
RUN mkdir -p /data/sub/deeper /app /links /srv /odd && echo a > /data/sub/a && echo d > /data/sub/deeper/d && echo b > /data/keep \
 && echo gone > /app/todelete && mkdir /app/gone-folder && echo x > /app/gone-folder/x && echo orig > /links/orig \
 && echo both > /links/first && ln /links/first /links/second && ln -s ../links/first /links/relative && ln -s /etc/passwd /links/absolute \
 && head -c 70000 /dev/zero > /app/big && chmod 4755 /app/big && mkfifo /app/fifo && touch /app/empty && mkdir /app/empty-folder \
 && touch "/odd/[bracket" "/odd/{brace" "/odd/sp ace" "/odd/tab	tab" "/odd/$(printf 'new\nline')" "/odd/ünïcödé" \
 && touch "/odd/$(printf 'a%.0s' $(seq 1 150))" && mkdir -p "/odd/$(printf 'b%.0s' $(seq 1 120))/$(printf 'c%.0s' $(seq 1 120))"
RUN rm /app/todelete && rm -rf /app/gone-folder /data/sub && mkdir -p /data/sub && echo new > /data/sub/h \
 && ln /links/orig /links/copy && rm /links/orig && echo changed > /data/keep && rm /odd/sp*
RUN echo summary > /srv/summary.txt && ln /srv/summary.txt /srv/report.txt && chmod 600 /srv/report.txt
RUN mkdir /heads && head -c 10000 /dev/urandom > /heads/mid.bin && head -c 200000 /dev/urandom > /heads/large.bin \
 && ln /heads/large.bin /heads/large-link && head -c 30000 /dev/urandom > /heads/small-linked && ln /heads/small-linked /heads/small-link \
 && cp /bin/busybox /heads/elf-not-executable && chmod 644 /heads/elf-not-executable \
 && { printf '#!/bin/sh\n'; head -c 9000 /dev/zero | tr '\0' x; } > /heads/script-not-executable \
 && { printf 'wanted\n'; head -c 20000 /dev/zero | tr '\0' w; } > /heads/wanted.txt && head -c 5000 /dev/zero > /heads/run-x && chmod 755 /heads/run-x
`;

/** The bytes of a few files, as a check asks for them (hard links among them). */
const probes: ProbeNeeds = { fileContents: ['/srv/summary.txt', '/srv/report.txt', '/links/copy', '/links/second', '/data/keep', '/heads/wanted.txt', '/heads/small-link'] };

const engines = useSandboxImage({ instance, runId, tag, dockerfile });

/** Counts the layers the folders handed over in full. */
function counting(folders: LayerFolders): { folders: LayerFolders; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    folders: {
      ...folders,
      readConfig: (imageId) => folders.readConfig(imageId),
      async readLayer(diffIds, signal, keepContentOf) {
        const layer = await folders.readLayer(diffIds, signal, keepContentOf);
        if (!layer) return undefined;
        return { chunks: layer.chunks, finished: async () => (await layer.finished(), read++, undefined) };
      },
    },
  };
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Names joined by hard links, each group as its sorted names, keyed by every member. */
function linkGroups(pairs: Array<[string, string]>): Map<string, string> {
  const parent = new Map<string, string>();
  const root = (name: string): string => {
    const up = parent.get(name);
    return up === undefined || up === name ? name : root(up);
  };
  for (const [a, b] of pairs) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    parent.set(root(a), root(b));
  }
  const members = new Map<string, string[]>();
  for (const name of parent.keys()) members.set(root(name), [...(members.get(root(name)) ?? []), name]);
  return new Map([...parent.keys()].map((name) => [name, members.get(root(name))!.sort().join(' = ')]));
}

/**
 * Everything a check can judge that comes from the layers, with file bytes as text, in a
 * form that leaves out what only the tar's writer chose: the order of entries (a base image's
 * rootfs tar need not be sorted; the folders' tar is in name order), and so which of a set of
 * hard-linked names carries the bytes and which link to it (perl and perl5.40.1, say): those
 * become the group of names, the same either way.
 */
function layerFacts(facts: ImageFacts) {
  return {
    layers: facts.layers.map((layer) => {
      const entries = layer.entries as LayerEntry[];
      const groups = linkGroups(entries.flatMap((entry) => (entry.type === 'hardlink' && entry.linkTarget ? [[entry.path, entry.linkTarget] as [string, string]] : [])));
      return {
        ...layer,
        entries: entries
          .map(({ content, ...entry }) => {
            const group = groups.get(entry.path);
            if (!group) return { ...entry, content: content?.toString('base64') };
            return { path: entry.path, mode: entry.mode, identity: entry.identity, linkGroup: group, content: content?.toString('base64') };
          })
          .sort(byPath),
      };
    }),
    files: (() => {
      const files = [...facts.files.values()];
      const groups = linkGroups(files.flatMap((file) => (file.hardLinkTo ? [[file.path, file.hardLinkTo] as [string, string]] : [])));
      return files
        .map(({ hardLinkTo: _hardLinkTo, layer: _layer, ...file }) => {
          const group = groups.get(file.path);
          return { ...file, content: file.content?.toString('base64'), ...(group ? { linkGroup: group } : { layer: _layer }) };
        })
        .sort(byPath);
    })(),
    buildTools: facts.buildTools.map((finding) => ({ ...finding, path: [finding.path, ...finding.aliases].sort().join(' = '), aliases: [] })).sort(byPath),
    history: facts.history,
    archiveLayout: facts.archiveLayout,
    loaderCache: facts.loaderCache,
  };
}

describe('layer folders give the facts docker save gives', () => {
  it.each([
    ['an image with deletions, opaque folders, hard links and odd names', () => tag],
    ['golang:1.24 (every layer of a real toolchain image)', () => 'golang:1.24'],
  ])('%s', async (_name, image) => {
    const { folders, read } = counting(sandboxLayerFolders(async () => engines.host, instance));
    const fromFolders = await gatherImageFacts(engines.nested, image(), { probes, layerFolders: folders });
    const fromSave = await gatherImageFacts(engines.nested, image(), { probes });
    expect(fromFolders && fromSave).toBeTruthy();
    // Every layer came from the folders, none from `docker save`.
    expect(read()).toBe(fromSave!.layers.length);
    expect(fromSave!.layers.every((layer) => !layer.unreadable)).toBe(true);
    expect(layerFacts(fromFolders!)).toEqual(layerFacts(fromSave!));
  });

  it('reads the deletions, the opaque folder and the hard links as a container sees them', async () => {
    const facts = await gatherImageFacts(engines.nested, tag, { probes, layerFolders: sandboxLayerFolders(async () => engines.host, instance) });
    const deletions = facts!.layers.at(-3)!;
    expect([...deletions.whiteouts].sort()).toEqual(['app/gone-folder', 'app/todelete', 'links/orig', 'odd/sp ace']);
    expect(deletions.opaqueDirectories).toEqual(['data/sub']);
    expect(facts!.files.has('data/sub/a')).toBe(false);
    expect(facts!.files.get('data/sub/h')?.type).toBe('file');
    expect(facts!.files.get('links/copy')?.content?.toString()).toBe('orig\n');
    expect(facts!.files.get('srv/report.txt')).toMatchObject({ type: 'file', content: Buffer.from('summary\n') });
    expect(facts!.files.has('odd/new\nline')).toBe(true);
    // Of files no fact reads only the head came, yet their sizes are whole; the bytes a check wants came whole.
    expect(facts!.files.get('heads/large.bin')).toMatchObject({ type: 'file', sizeBytes: 200000 });
    expect(facts!.files.get('heads/mid.bin')).toMatchObject({ type: 'file', sizeBytes: 10000 });
    expect(facts!.files.get('heads/wanted.txt')?.content?.length).toBe(20007);
    expect(facts!.files.get('heads/small-link')?.content?.length).toBe(30000);
    expect(facts!.files.get('heads/script-not-executable')?.identity).toEqual({ kind: 'script', interpreter: '/bin/sh' });
    expect(facts!.layers.at(-1)!.sizeBytes).toBe(10000 + 200000 + 30000 + facts!.files.get('heads/elf-not-executable')!.sizeBytes + 9010 + 20007 + 5000);
  });

  it('reads from docker save whatever layer the folders cannot give, with the same facts', async () => {
    const folders = sandboxLayerFolders(async () => engines.host, instance);
    let refused = 0;
    const failingMiddle: LayerFolders = {
      ...folders,
      readConfig: (imageId) => folders.readConfig(imageId),
      async readLayer(diffIds, signal, keepContentOf) {
        if (diffIds.length !== 2) return await folders.readLayer(diffIds, signal, keepContentOf);
        refused++;
        // A read that fails part way (tar exited non-zero): its part must not be used.
        const layer = await folders.readLayer(diffIds, signal, keepContentOf);
        return layer && { chunks: layer.chunks, finished: async () => Promise.reject(new Error('tar exited 2')) };
      },
    };
    const partly = await gatherImageFacts(engines.nested, tag, { probes, layerFolders: failingMiddle });
    const fromSave = await gatherImageFacts(engines.nested, tag, { probes });
    expect(refused).toBe(1);
    expect(layerFacts(partly!)).toEqual(layerFacts(fromSave!));
  });

  it('says "not here" for a layer the engine does not have, and for a config that is not the image id', async () => {
    const folders = sandboxLayerFolders(async () => engines.host, instance);
    const missing = await folders.readLayer([`sha256:${'0'.repeat(64)}`]);
    for await (const _chunk of missing!.chunks) {
      // nothing should come
    }
    await expect(missing!.finished()).rejects.toThrow(/not in the folders/);
    expect(await folders.readConfig(`sha256:${'0'.repeat(64)}`)).toBeUndefined();
  });
});
