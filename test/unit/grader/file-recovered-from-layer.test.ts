import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fileRecoveredFromLayer } from '../../../runner/src/grader/kinds/file-recovered-from-layer.js';
import type { FileFacts, ReferenceFileFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// What the learner reads for each way a recovery can go wrong: the whole outcome, word for word,
// and never the hidden file's content.

const code = '9f3c2a71b0d4e58c6a7f1e2d3c4b5a69';
const madeBy: [string, string] = ['RUN echo hidden > /vault/code.txt', 'RUN rm /vault/code.txt'];
const params = { path: '/out/code.txt', from: { image: 'vault', path: '/vault/code.txt', madeBy } };
const expected = '/out/code.txt with the content of /vault/code.txt from a lower layer of vault';
const rebuild = "Rebuild it from the course's unchanged Dockerfile (`docker rmi vault`, then the exercise's prepare.sh), recover the file again, and rebuild your image.";

type Present = Extract<ReferenceFileFacts, { isImagePresent: true }>;
const vault = (overrides: Partial<Present> = {}): ReferenceFileFacts => ({
  image: 'vault',
  path: '/vault/code.txt',
  isImagePresent: true,
  layerCount: 3,
  layerInstructions: ['ADD rootfs.tar /', ...madeBy],
  versions: [{ layer: 1, diffId: '', layerFiles: [], type: 'file', sizeBytes: code.length, content: Buffer.from(code) }],
  isVisible: false,
  ...overrides,
});
const copy = (content: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path: 'out/code.txt', type: 'file', sizeBytes: content.length, mode: 0o644, layer: 1, content: Buffer.from(content), ...overrides });
const graded = (references: ReferenceFileFacts[], files: FileFacts[], layers = [layer(0, { instruction: 'FROM scratch' }), layer(1, { instruction: 'COPY code.txt /out/' })]) =>
  facts({ layers, probes: { referenceFiles: references } }, files);
const judge = (reference: ReferenceFileFacts, files: FileFacts[]) => fileRecoveredFromLayer.evaluate(graded([reference], files), params);
const fingerprint = (text: string) => `sha256 ${createHash('sha256').update(text, 'latin1').digest('hex').slice(0, 12)}…, ${text.length} B`;

describe('file-recovered-from-layer: parameters', () => {
  const valid = { path: '/out/code.txt', from: { image: 'vault', path: '/vault/code.txt', madeBy: ['RUN x'] } };
  const accepts = (value: unknown) => fileRecoveredFromLayer.params.safeParse(value).success;

  it('takes absolute paths without wildcards, a named image and at least one instruction', () => {
    expect(accepts(valid)).toBe(true);
    for (const path of ['out/code.txt', 'x/out', '/', '/out/*.txt', '/out/code?', '/a*']) {
      expect(accepts({ ...valid, path }), path).toBe(false);
      expect(accepts({ ...valid, from: { ...valid.from, path } }), path).toBe(false);
    }
    expect(accepts({ ...valid, from: { ...valid.from, image: '' } })).toBe(false);
    expect(accepts({ ...valid, from: { ...valid.from, madeBy: [] } })).toBe(false);
    expect(accepts({ ...valid, from: { ...valid.from, madeBy: [''] } })).toBe(false);
    expect(accepts({ ...valid, extra: 1 })).toBe(false);
    expect(accepts({ ...valid, from: { ...valid.from, extra: 1 } })).toBe(false);
  });

  it('says what a path must look like', () => {
    const result = fileRecoveredFromLayer.params.safeParse({ ...valid, path: 'code.txt' });
    expect(result.success ? [] : result.error.issues.map((issue) => issue.message)).toEqual(['must be an absolute path without wildcards, such as /vault/code.txt']);
  });

  it('asks for the copy and the reference file', () => {
    expect(fileRecoveredFromLayer.probes?.(params)).toEqual({ fileContents: ['/out/code.txt'], referenceFiles: [params.from] });
  });
});

describe('file-recovered-from-layer: verdicts', () => {
  it('passes the same bytes, trailing spaces and newlines on either side allowed', () => {
    const passed = { status: 'pass', expected, actual: `the same bytes as /vault/code.txt in layer 2 of vault (${fingerprint(code)})` };
    expect(judge(vault(), [copy(code)])).toEqual(passed);
    expect(judge(vault(), [copy(`${code} \n\n`)])).toEqual(passed);
    expect(judge(vault({ versions: [{ layer: 1, diffId: '', layerFiles: [], type: 'file', sizeBytes: 34, content: Buffer.from(`${code}\r\n`) }] }), [copy(code)])).toEqual(passed);
  });

  it('fails a copy that differs in its leading or inner spaces, naming both fingerprints and never the content', () => {
    const found = ` ${code}`;
    expect(judge(vault(), [copy(found)])).toEqual({
      status: 'fail',
      expected,
      actual: fingerprint(found),
      message: `/out/code.txt, from layer 2 (\`COPY code.txt /out/\`), is not a copy of /vault/code.txt in layer 2 of vault: ${fingerprint(found)}, where the original is ${fingerprint(code)}.`,
    });
    const inner = `${code.slice(0, 4)} ${code.slice(4)}`;
    expect(judge(vault(), [copy(inner)]).status).toBe('fail');
  });

  it('compares with the last layer that wrote the file', () => {
    const versions = [
      { layer: 1, diffId: '', layerFiles: [], type: 'file' as const, sizeBytes: 5, content: Buffer.from('first') },
      { layer: 2, diffId: '', layerFiles: [], type: 'file' as const, sizeBytes: code.length, content: Buffer.from(code) },
    ];
    const reference = vault({ layerCount: 4, layerInstructions: ['ADD rootfs.tar /', 'RUN echo first > /vault/code.txt', ...madeBy], versions });
    expect(judge(reference, [copy(code)])).toMatchObject({ status: 'pass', actual: `the same bytes as /vault/code.txt in layer 3 of vault (${fingerprint(code)})` });
    expect(judge(reference, [copy('first')]).status).toBe('fail');
  });

  it('skips when the reference image was not read, matching it by image and path', () => {
    const skipped = { status: 'skip', expected, actual: 'not read', message: 'vault was not read.' };
    expect(judge(vault({ path: '/vault/other.txt' }), [copy(code)])).toEqual(skipped);
    expect(judge(vault({ image: 'other' }), [copy(code)])).toEqual(skipped);
    const both = graded([vault({ image: 'other', versions: [] }), vault({ path: '/vault/other.txt', versions: [] }), vault()], [copy(code)]);
    expect(fileRecoveredFromLayer.evaluate(both, params).status).toBe('pass');
  });

  it('fails without the reference image, and when a container of it sees the file', () => {
    expect(judge({ image: 'vault', path: '/vault/code.txt', isImagePresent: false }, [copy(code)])).toEqual({
      status: 'fail',
      expected,
      actual: 'no image vault',
      message: 'The engine has no image vault to compare with.',
    });
    expect(judge(vault({ isVisible: true }), [copy(code)])).toEqual({
      status: 'fail',
      expected,
      actual: '/vault/code.txt is visible in vault',
      message: 'A container of vault can see /vault/code.txt, so this is not the image the exercise made: it must keep the file only in a lower layer. Rebuild it from its unchanged Dockerfile.',
    });
  });

  it('fails when no layer of the reference holds a small regular file', () => {
    expect(judge(vault({ versions: [] }), [copy(code)])).toEqual({
      status: 'fail',
      expected,
      actual: 'no /vault/code.txt in vault',
      message: 'No layer of vault holds /vault/code.txt. Rebuild it from its unchanged Dockerfile.',
    });
    const notSmall = {
      status: 'fail',
      expected,
      actual: '/vault/code.txt in vault is not a small file',
      message: '/vault/code.txt in layer 2 of vault is not a regular file of at most 65.5 kB.',
    };
    expect(judge(vault({ versions: [{ layer: 1, diffId: '', layerFiles: [], type: 'directory', sizeBytes: 0, content: Buffer.from('') }] }), [copy(code)])).toEqual(notSmall);
    expect(judge(vault({ versions: [{ layer: 1, diffId: '', layerFiles: [], type: 'file', sizeBytes: 5e6 }] }), [copy(code)])).toEqual(notSmall);
  });

  it('fails a reference built by other instructions, quoting the layer that differs', () => {
    const own = 'RUN echo mine > /vault/code.txt';
    expect(judge(vault({ layerInstructions: ['ADD rootfs.tar /', own, madeBy[1]] }), [copy(code)])).toEqual({
      status: 'fail',
      expected,
      actual: "vault is not the course's",
      message: `vault is not the image the course's Dockerfile builds: its layer 2 was made by \`${own}\`, where the course's Dockerfile has \`${madeBy[0]}\`. ${rebuild}`,
    });
    const top = judge(vault({ layerInstructions: ['ADD rootfs.tar /', madeBy[0], 'RUN true'] }), [copy(code)]);
    expect(top.message).toBe(`vault is not the image the course's Dockerfile builds: its layer 3 was made by \`RUN true\`, where the course's Dockerfile has \`${madeBy[1]}\`. ${rebuild}`);
    const unnamed = judge(vault({ layerInstructions: ['ADD rootfs.tar /', madeBy[0], undefined] }), [copy(code)]);
    expect(unnamed.message).toBe(`vault is not the image the course's Dockerfile builds: its layer 3 was made by an instruction its history does not name, where the course's Dockerfile has \`${madeBy[1]}\`. ${rebuild}`);
  });

  it('fails a reference with too few layers, and one with a layer too many on top', () => {
    expect(judge(vault({ layerCount: 1, layerInstructions: [madeBy[1]] }), [copy(code)])).toEqual({
      status: 'fail',
      expected,
      actual: "vault is not the course's",
      message: `vault has 1 layers, fewer than the course's Dockerfile makes. ${rebuild}`,
    });
    expect(judge(vault({ layerInstructions: madeBy }), [copy(code)]).status).toBe('pass');
    const extra = judge(vault({ layerInstructions: ['ADD rootfs.tar /', ...madeBy, 'RUN ls'] }), [copy(code)]);
    expect(extra.message).toBe(`vault is not the image the course's Dockerfile builds: its layer 3 was made by \`${madeBy[1]}\`, where the course's Dockerfile has \`${madeBy[0]}\`. ${rebuild}`);
  });

  it('shortens long instructions on both sides to 117 characters and an ellipsis', () => {
    const long = `RUN ${'a'.repeat(200)}`;
    const wanted = `RUN ${'b'.repeat(117)}`;
    const exactly120 = `RUN ${'c'.repeat(116)}`;
    const outcome = fileRecoveredFromLayer.evaluate(graded([vault({ layerInstructions: ['ADD rootfs.tar /', long, exactly120] })], [copy(code)]), {
      ...params,
      from: { ...params.from, madeBy: [wanted, exactly120] },
    });
    expect(outcome.message).toBe(`vault is not the image the course's Dockerfile builds: its layer 2 was made by \`${long.slice(0, 117)}...\`, where the course's Dockerfile has \`${wanted.slice(0, 117)}...\`. ${rebuild}`);
    const short = fileRecoveredFromLayer.evaluate(graded([vault({ layerInstructions: ['ADD rootfs.tar /', exactly120, madeBy[1]] })], [copy(code)]), {
      ...params,
      from: { ...params.from, madeBy: [`RUN ${'d'.repeat(116)}`, madeBy[1]] },
    });
    expect(short.message).toContain(`its layer 2 was made by \`${exactly120}\`, where the course's Dockerfile has \`RUN ${'d'.repeat(116)}\`.`);
  });

  it('compares instructions with continuation lines and runs of spaces collapsed', () => {
    const written = ['RUN echo hidden \\\n    > /vault/code.txt', 'RUN  rm   /vault/code.txt '];
    const outcome = fileRecoveredFromLayer.evaluate(graded([vault()], [copy(code)]), { ...params, from: { ...params.from, madeBy: written } });
    expect(outcome.status).toBe('pass');
  });

  it('fails a missing copy, or skips when a layer it could be in was not read', () => {
    expect(judge(vault(), [])).toEqual({ status: 'fail', expected, actual: 'no such file', message: 'The image has no /out/code.txt.' });
    const unreadable = fileRecoveredFromLayer.evaluate(graded([vault()], [], [layer(0, { instruction: 'COPY code.txt /out/', unreadable: 'it is compressed with zstd' })]), params);
    expect(unreadable).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Could not decide: /out/code.txt is in none of the layers that were read, but layer 1 (`COPY code.txt /out/`) could not be read (it is compressed with zstd).',
    });
  });

  it('fails a copy that is a folder or a link, or too large to have been read', () => {
    expect(judge(vault(), [copy('', { type: 'directory', content: undefined })])).toEqual({
      status: 'fail',
      expected,
      actual: 'a directory',
      message: '/out/code.txt is a directory, not a regular file.',
    });
    expect(judge(vault(), [copy('', { type: 'symlink', linkTarget: '/vault/code.txt', content: undefined })]).actual).toBe('a symlink to /vault/code.txt');
    expect(judge(vault(), [copy('', { sizeBytes: 3_000_000, content: undefined })])).toEqual({
      status: 'fail',
      expected,
      actual: '3 MB',
      message: '/out/code.txt is 3 MB, far more than the file it should be a copy of (32 B).',
    });
  });
});
