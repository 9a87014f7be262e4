import { describe, expect, it } from 'vitest';
import { referenceFileFacts, maxLayerFiles } from '../../../runner/src/grader/facts/reference-files.js';
import { readImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import { layerNotShipped } from '../../../runner/src/grader/kinds/layer-not-shipped.js';
import type { LayerEntryFacts, LayerFacts, ReferenceFileFacts } from '../../../runner/src/grader/types.js';
import { facts, inPieces, layer, legacyArchive, makeTar } from './builders.js';


type Present = Extract<ReferenceFileFacts, { isImagePresent: true }>;

const code = 'c5e1f0a2b3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6';
const codeLayerId = `sha256:${'c'.repeat(64)}`;
const file = (path: string, sizeBytes: number): LayerEntryFacts => ({ path, type: 'file', sizeBytes });
const directory = (path: string): LayerEntryFacts => ({ path, type: 'directory', sizeBytes: 0 });
/** The course vault's code layer, as reference-files.ts reports it: its files, folders left out. */
const codeLayerFiles = [file('vault/old/notes.txt', 11), file('vault/recovery-code.txt', 48)];

const vault = (overrides: Partial<Present> = {}): ReferenceFileFacts => ({
  image: 'lesson-6-vault',
  path: '/vault/recovery-code.txt',
  isImagePresent: true,
  layerCount: 3,
  layerInstructions: ['ADD busybox.tar /', 'RUN mkdir -p /vault/old …', 'RUN rm /vault/recovery-code.txt …'],
  versions: [{ layer: 1, type: 'file', sizeBytes: 48, content: Buffer.from(code), diffId: codeLayerId, layerFiles: codeLayerFiles }],
  isVisible: false,
  ...overrides,
});
const params = { from: { image: 'lesson-6-vault', path: '/vault/recovery-code.txt' } };
const busybox = layer(0, { instruction: 'ADD busybox.tar /', entries: [directory('bin'), file('bin/busybox', 1_000_000)] });
const judge = (layers: LayerFacts[], reference: ReferenceFileFacts | null = vault()) =>
  layerNotShipped.evaluate(facts({ ref: 'lesson-6', layers, probes: reference ? { referenceFiles: [reference] } : {} }), params);

describe('layer-not-shipped: parameters and probes', () => {
  it('asks for the other image read for the path, and takes only an absolute path without wildcards', () => {
    expect(layerNotShipped.probes?.(params)).toEqual({ referenceFiles: [params.from] });
    expect(layerNotShipped.params.safeParse(params).success).toBe(true);
    expect(layerNotShipped.params.safeParse({ from: { image: 'v', path: 'vault/x' } }).success).toBe(false);
    expect(layerNotShipped.params.safeParse({ from: { image: 'v', path: '/vault/*' } }).success).toBe(false);
    expect(layerNotShipped.params.safeParse({ from: { image: '', path: '/vault/x' } }).success).toBe(false);
    expect(layerNotShipped.params.safeParse({ from: { image: 'v', path: '/vault/x', extra: 1 } }).success).toBe(false);
  });
});

describe('layer-not-shipped: verdicts', () => {
  it('passes the one file copied at another path, or at the very path the vault used', () => {
    const recovered = layer(1, { instruction: 'COPY recovery-code.txt /recovered/', entries: [directory('recovered'), file('recovered/recovery-code.txt', 48)] });
    expect(judge([busybox, recovered])).toEqual({ status: 'pass', expected: 'no layer of lesson-6-vault that holds /vault/recovery-code.txt, as a layer or unpacked', actual: 'in none of 2 layers' });
    const samePath = layer(1, { instruction: 'COPY recovery-code.txt /vault/', entries: [directory('vault'), file('vault/recovery-code.txt', 49), file('recovered/recovery-code.txt', 49)] });
    expect(judge([busybox, samePath]).status).toBe('pass');
    // Even with a notes file of its own beside it, of another size.
    const withNotes = layer(1, { entries: [file('vault/recovery-code.txt', 48), file('vault/old/notes.txt', 5)] });
    expect(judge([busybox, withNotes]).status).toBe('pass');
  });

  it('fails the very same layer (built FROM the vault), whatever the paths hold now', () => {
    const outcome = judge([busybox, layer(1, { diffId: codeLayerId, instruction: 'RUN mkdir -p /vault/old …' }), layer(2, { instruction: 'COPY recovery-code.txt /recovered/' })]);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'in layer 2' });
    expect(outcome.message).toBe(
      "Layer 2 (`RUN mkdir -p /vault/old …`) is layer 2 of lesson-6-vault, the one that holds /vault/recovery-code.txt (the same DiffID, sha256:cccccccccccc…): an image built FROM lesson-6-vault, or on an image made from it, ships all of its layers. Copy only the file you need out of it into an image of its own.",
    );
    expect(outcome.status === 'fail' && outcome.evidence).toEqual([{ heading: 'Layer 2 (`RUN mkdir -p /vault/old …`): the very same layer', layer: 1, items: ['/vault/recovery-code.txt'] }]);
  });

  it('fails the layer unpacked at the root, under another folder, or with its top folder renamed', () => {
    const atRoot = judge([busybox, layer(1, { instruction: 'ADD layer.tar /', entries: [directory('vault'), ...codeLayerFiles] })]);
    expect(atRoot.message).toBe(
      'Layer 2 (`ADD layer.tar /`) holds layer 2 of lesson-6-vault unpacked at the root: /vault/recovery-code.txt, /vault/old/notes.txt. Take the file you need out of the layer before you build, and copy only that file into your image.',
    );
    const elsewhere = judge([busybox, layer(1, { instruction: 'ADD layer.tar /opt/x/', entries: [file('opt/x/vault/old/notes.txt', 11), file('opt/x/vault/recovery-code.txt', 48)] })]);
    expect(elsewhere).toMatchObject({ status: 'fail', actual: 'in layer 2' });
    expect(elsewhere.message).toContain('unpacked under /opt/x: /opt/x/vault/recovery-code.txt, /opt/x/vault/old/notes.txt.');
    const renamed = judge([busybox, layer(1, { entries: [file('srv/stash/old/notes.txt', 11), file('srv/stash/recovery-code.txt', 48)] })]);
    expect(renamed.message).toContain('unpacked under /srv/stash: /srv/stash/recovery-code.txt, /srv/stash/old/notes.txt');
    const topLevel = judge([busybox, layer(1, { entries: [file('old/notes.txt', 11), file('recovery-code.txt', 48)] })]);
    expect(topLevel.message).toContain('unpacked at the root: /recovery-code.txt, /old/notes.txt');
  });

  it("fails the layer's tar kept as a file named by its digest, as docker save names the blob", () => {
    const hex = codeLayerId.slice('sha256:'.length);
    const saved = layer(1, { instruction: 'COPY . /recovered/', entries: [file('recovered/recovery-code.txt', 48), file(`recovered/saved/blobs/sha256/${hex}`, 4096), file('recovered/saved/index.json', 300)] });
    const outcome = judge([busybox, saved]);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'in layer 2' });
    expect(outcome.message).toBe(
      `Layer 2 (\`COPY . /recovered/\`) holds layer 2 of lesson-6-vault as a file, its tar named by its digest as \`docker save\` names it: /recovered/saved/blobs/sha256/${hex}. Take the file you need out of the layer before you build, and copy only that file into your image.`,
    );
    expect(outcome.status === 'fail' && outcome.evidence?.[0]?.heading).toBe("Layer 2 (`COPY . /recovered/`): the layer's tar, as a file");
    expect(judge([busybox, layer(1, { entries: [file(hex, 4096)] })]).status).toBe('fail');
    // Not a file of that name that is empty, a folder, a link, or a name that only ends with the digest.
    expect(judge([busybox, layer(1, { entries: [file(`x/${hex}`, 0), directory(`y/${hex}`), { path: `z/${hex}`, type: 'symlink', sizeBytes: 0 }, file(`a/b${hex}`, 4096)] })]).status).toBe('pass');
    // Nor a DiffID that only holds a digest among other text.
    for (const odd of [`xsha256:${hex}`, `sha256:${hex}0`]) {
      expect(judge([busybox, layer(1, { entries: [file(hex, 4096)] })], vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: odd, layerFiles: codeLayerFiles }] })).status).toBe('pass');
    }
    // Nor the digest of a layer the reader could not name.
    const unnamed = vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: `sha512:${hex}`, layerFiles: codeLayerFiles }] });
    expect(judge([busybox, layer(1, { entries: [file(hex, 4096)] })], unnamed).status).toBe('pass');
  });

  it('says when a later layer deletes the unpacked files, whose bytes still ship', () => {
    const unpacked = layer(1, { instruction: 'ADD layer.tar /tmp/', entries: [file('tmp/vault/old/notes.txt', 11), file('tmp/vault/recovery-code.txt', 48)] });
    const cleaned = layer(2, { instruction: 'RUN cp … && rm -rf /tmp/vault', whiteouts: ['tmp/vault'] });
    const outcome = judge([busybox, unpacked, cleaned]);
    expect(outcome.message).toContain('; layer 3 (`RUN cp … && rm -rf /tmp/vault`) deletes them, so a container does not see them, but their bytes still ship in layer 2.');
    expect(outcome.status === 'fail' && outcome.evidence).toEqual([{ heading: 'Layer 2 (`ADD layer.tar /tmp/`): the layer\'s files, unpacked', layer: 1, items: ['/tmp/vault/recovery-code.txt', '/tmp/vault/old/notes.txt'] }]);
  });

  it('needs every file of the layer, each of the same type and size, at the same places relative to one another', () => {
    const entriesWith = (notes: LayerEntryFacts) => [file('x/vault/recovery-code.txt', 48), notes];
    expect(judge([busybox, layer(1, { entries: entriesWith(file('x/vault/old/notes.txt', 12)) })]).status).toBe('pass');
    expect(judge([busybox, layer(1, { entries: entriesWith({ path: 'x/vault/old/notes.txt', type: 'symlink', sizeBytes: 11 }) })]).status).toBe('pass');
    expect(judge([busybox, layer(1, { entries: entriesWith(file('y/vault/old/notes.txt', 11)) })]).status).toBe('pass');
    expect(judge([busybox, layer(1, { entries: [file('x/vault/recovery-code.txt', 47), file('x/vault/old/notes.txt', 11)] })]).status).toBe('pass');
    // A name that only ends like the file is not it.
    expect(judge([busybox, layer(1, { entries: [file('x/myrecovery-code.txt', 48), file('x/old/notes.txt', 11)] })]).status).toBe('pass');
    // Spread over two layers, neither holds the layer.
    expect(judge([busybox, layer(1, { entries: [file('x/vault/recovery-code.txt', 48)] }), layer(2, { entries: [file('x/vault/old/notes.txt', 11)] })]).status).toBe('pass');
  });

  it('knows the vault folder again under another name at any depth, and needs only the files below it', () => {
    const deep = vault({
      path: '/srv/vault/code.txt',
      versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: codeLayerId, layerFiles: [file('srv/vault/code.txt', 48), file('srv/vault/old/n.txt', 11), file('tmp/build.log', 7)] }],
    });
    const judgeDeep = (entries: LayerEntryFacts[]) =>
      layerNotShipped.evaluate(facts({ ref: 'lesson-6', layers: [busybox, layer(1, { entries })], probes: { referenceFiles: [deep] } }), { from: { image: 'lesson-6-vault', path: '/srv/vault/code.txt' } });
    const renamed = judgeDeep([file('x/stash/code.txt', 48), file('x/stash/old/n.txt', 11)]);
    expect(renamed.message).toContain('unpacked under /x/stash: /x/stash/code.txt, /x/stash/old/n.txt.');
    // Names that only end like the vault's files are not them.
    expect(judgeDeep([file('x/mycode.txt', 48), file('x/myold/n.txt', 11)]).status).toBe('pass');
  });

  it('lists exactly three paths without a tail, and two blobs apart', () => {
    const three = [file('vault/recovery-code.txt', 48), file('vault/old/1.txt', 1), file('vault/old/2.txt', 2)];
    const reference = vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: codeLayerId, layerFiles: three }] });
    expect(judge([busybox, layer(1, { entries: three })], reference).message).toContain(': /vault/recovery-code.txt, /vault/old/1.txt, /vault/old/2.txt. Take');
    const hex = codeLayerId.slice('sha256:'.length);
    expect(judge([busybox, layer(1, { entries: [file(`a/${hex}`, 9), file(`b/${hex}`, 9)] })]).message).toContain(`: /a/${hex}, /b/${hex}. Take`);
  });

  it('never counts the code alone as the layer, even when the vault layer holds nothing else', () => {
    const lonely = vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: codeLayerId, layerFiles: [file('vault/recovery-code.txt', 48)] }] });
    expect(judge([busybox, layer(1, { entries: [file('vault/recovery-code.txt', 48)] })], lonely).status).toBe('pass');
  });

  it('looks for every layer that wrote the path as a file, and only those', () => {
    const twice = vault({
      versions: [
        { layer: 1, type: 'directory', sizeBytes: 0, diffId: `sha256:${'d'.repeat(64)}`, layerFiles: [] },
        { layer: 2, type: 'file', sizeBytes: 48, diffId: codeLayerId, layerFiles: codeLayerFiles },
      ],
    });
    expect(judge([busybox, layer(1, { diffId: `sha256:${'d'.repeat(64)}` })], twice).status).toBe('pass');
    expect(judge([busybox, layer(1, { diffId: codeLayerId })], twice)).toMatchObject({ status: 'fail', actual: 'in layer 2' });
    // A layer whose DiffID the reader did not know is never the same layer.
    const unknownId = vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: '', layerFiles: codeLayerFiles }] });
    expect(judge([busybox, layer(1, { diffId: '' })], unknownId).status).toBe('pass');
  });

  it('lists three paths and says how many more', () => {
    const many = [file('vault/recovery-code.txt', 48), ...[1, 2, 3, 4].map((n) => file(`vault/old/${n}.txt`, n))];
    const reference = vault({ versions: [{ layer: 1, type: 'file', sizeBytes: 48, diffId: codeLayerId, layerFiles: many }] });
    const outcome = judge([busybox, layer(1, { entries: many })], reference);
    expect(outcome.message).toContain(': /vault/recovery-code.txt, /vault/old/1.txt, /vault/old/2.txt, and 2 more.');
  });

  it('reports every layer that ships it', () => {
    const outcome = judge([busybox, layer(1, { diffId: codeLayerId }), layer(2, { entries: codeLayerFiles.map((entry) => ({ ...entry, path: `copy/${entry.path}` })) })]);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'in layer 2, layer 3' });
    expect(outcome.message?.split('\n')).toHaveLength(2);
  });

  it('cannot decide without the vault, its file, or every layer read, and says why', () => {
    expect(judge([busybox], null)).toMatchObject({ status: 'skip', actual: 'not read', message: 'lesson-6-vault was not read.' });
    expect(judge([busybox], { image: 'lesson-6-vault', path: '/vault/recovery-code.txt', isImagePresent: false })).toMatchObject({
      status: 'skip',
      actual: 'no image lesson-6-vault',
      message: "The engine has no image lesson-6-vault to compare with, so it cannot tell which layer must not ship. Build it again with the exercise's prepare.sh.",
    });
    expect(judge([busybox], vault({ versions: [] }))).toMatchObject({
      status: 'skip',
      actual: 'no /vault/recovery-code.txt in lesson-6-vault',
      message: 'No layer of lesson-6-vault holds /vault/recovery-code.txt as a file, so there is no layer to look for. Rebuild it from its unchanged Dockerfile.',
    });
    expect(judge([busybox], vault({ path: '/vault/other.txt' })).actual).toBe('not read');
    expect(judge([busybox], vault({ image: 'other' })).actual).toBe('not read');
    const unreadable = judge([busybox, layer(1, { instruction: 'COPY x /x', unreadable: 'its tar is truncated' })]);
    expect(unreadable).toMatchObject({ status: 'skip', actual: 'unknown', message: 'Not every layer could be read: layer 2 (`COPY x /x`): its tar is truncated.' });
    const two = judge([busybox, layer(1, { unreadable: 'a' }), layer(2, { unreadable: 'b' })]);
    expect(two.message).toBe('Not every layer could be read: layer 2: a; layer 3: b.');
    // A finding needs no other layer: the same DiffID is known without reading.
    expect(judge([busybox, layer(1, { diffId: codeLayerId, unreadable: 'its tar is truncated' })]).status).toBe('fail');
  });

  it('shows names from the image with their control characters escaped', () => {
    const hostile = [file('x\u001b]0;pwn\u0007/vault/recovery-code.txt', 48), file('x\u001b]0;pwn\u0007/vault/old/notes.txt', 11)];
    const outcome = judge([busybox, layer(1, { entries: hostile })]);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).not.toContain('\u001b');
  });
});

describe('reference files: the layer that holds the path', () => {
  it('reports its DiffID and its files, folders left out, from a real tar', async () => {
    const layerTars = [
      await makeTar([{ name: 'bin/', type: 'directory' }]),
      await makeTar([
        { name: 'vault/', type: 'directory' },
        { name: 'vault/old/', type: 'directory' },
        { name: 'vault/old/notes.txt', content: 'rotation 1\n' },
        { name: 'vault/recovery-code.txt', content: code },
        { name: 'vault/link', type: 'symlink', linkname: 'recovery-code.txt' },
      ]),
      await makeTar([{ name: 'vault/.wh.recovery-code.txt' }]),
    ];
    const archive = await readImageArchive(inPieces(await legacyArchive(layerTars)), { keepContentOf: new Set(['vault/recovery-code.txt']) });
    const found = referenceFileFacts({ image: 'lesson-6-vault', path: '/vault/recovery-code.txt' }, archive) as Present;
    expect(found.versions).toHaveLength(1);
    expect(found.versions[0]!.diffId).toBe(archive.config.rootfs?.diff_ids?.[1]);
    expect(found.versions[0]!.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(found.versions[0]!.layerFiles).toEqual([
      { path: 'vault/old/notes.txt', type: 'file', sizeBytes: 11 },
      { path: 'vault/recovery-code.txt', type: 'file', sizeBytes: 48 },
      { path: 'vault/link', type: 'symlink', sizeBytes: 0 },
    ]);
  });

  it('keeps at most maxLayerFiles of a layer with very many', async () => {
    const crowded = await makeTar([...Array.from({ length: maxLayerFiles + 5 }, (_, n) => ({ name: `f/${n}` })), { name: 'vault/recovery-code.txt', content: code }]);
    const archive = await readImageArchive(inPieces(await legacyArchive([crowded]), 1 << 20), {});
    const found = referenceFileFacts({ image: 'v', path: '/vault/recovery-code.txt' }, archive) as Present;
    expect(found.versions[0]!.layerFiles).toHaveLength(maxLayerFiles);
  });
});
