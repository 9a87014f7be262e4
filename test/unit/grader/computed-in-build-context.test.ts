import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changedHolder, holdersOf } from '../../../runner/src/grader/facts/context-change.js';
import { computedInBuild } from '../../../runner/src/grader/kinds/computed-in-build.js';
import type { ContextChangeFacts, ContextHolder } from '../../../runner/src/grader/types.js';
import { windowsOf } from '../../../runner/src/grader/value-pieces.js';
import { facts } from './builders.js';

// Whether a value came from the build context is told by building again with the files that
// hold it changed (facts/context-change.ts); these are the pure halves: which files hold it,
// how they are changed, and the verdict on what the rebuild found.

const data = Buffer.from(Array.from({ length: 2000 }, (_, index) => `${index + 1}\n`).join(''));
const value = createHash('sha256').update(data).digest('hex');
const file = (name: string, content: string | Buffer) => ({ header: { name, type: 'file' as const }, content: Buffer.from(content) });

describe('context change: the files that hold the value', () => {
  it('finds the value whole, a long piece of it, and the data whose checksum it is; not a short piece, a folder or a link', () => {
    const files = [
      file('summary.txt', `2000\n${value}  numbers.txt\n`),
      file('split.txt', `printf '${value.slice(10, 26)}' '${value.slice(26)}'`),
      file('short.txt', value.slice(0, 15)),
      file('numbers.txt', data),
      file('numbers-plus.txt', Buffer.concat([data, Buffer.from('\n')])),
      { header: { name: 'notes/', type: 'directory' as const }, content: Buffer.alloc(0) },
      { header: { name: 'link.txt', type: 'symlink' as const, linkname: value }, content: Buffer.alloc(0) },
    ];
    expect(holdersOf(files, value, 16)).toEqual([
      { path: 'summary.txt', holds: 'text' },
      { path: 'split.txt', holds: 'text' },
      { path: 'numbers.txt', holds: 'checksum' },
    ]);
    expect(holdersOf([file('short.txt', value.slice(0, 15))], value, 8)).toEqual([{ path: 'short.txt', holds: 'text' }]);
    expect(holdersOf([file('upper.txt', data)], value.toUpperCase(), 16)).toEqual([{ path: 'upper.txt', holds: 'checksum' }]);
  });

  it('changes a text holder so that no piece is left, its length kept, the rest untouched', () => {
    const holder: ContextHolder = { path: 'summary.txt', holds: 'text' };
    const original = Buffer.from(`2000\n${value}  numbers.txt\nand ${value.slice(5, 30)} again\n`);
    const changed = changedHolder(original, holder, value, 16);
    expect(changed.length).toBe(original.length);
    expect(holdersOf([file('summary.txt', changed)], value, 16)).toEqual([]);
    expect(changed.toString()).toBe(`2000\n${'x'.repeat(64)}  numbers.txt\nand ${'x'.repeat(25)} again\n`);
    expect(original.toString()).toContain(value);
    // A value that uses x is overwritten with a character it does not use.
    expect(changedHolder(Buffer.from('xxxxxxxxxxxxxxxxyz'), holder, 'xxxxxxxxxxxxxxxxyz', 16).toString()).toBe('##################');
  });

  it('changes the data a checksum is of by a newline at its end', () => {
    const changed = changedHolder(data, { path: 'numbers.txt', holds: 'checksum' }, value, 16);
    expect(changed).toEqual(Buffer.concat([data, Buffer.from('\n')]));
    expect(holdersOf([file('numbers.txt', changed)], value, 16)).toEqual([]);
  });

  it('looks for every window of the value once', () => {
    expect(windowsOf('abcdefghij', 8)).toEqual(['abcdefgh', 'bcdefghi', 'cdefghij']);
    expect(windowsOf('aaaaaaaaaa', 8)).toEqual(['aaaaaaaa']);
    expect(windowsOf('abc', 8)).toEqual([]);
  });
});

describe('computed-in-build: judged on the rebuild with the holders changed', () => {
  const params = computedInBuild.params.parse({ value, name: 'the checksum of numbers.txt', path: '/srv/summary.txt' });
  const request = { value, pieceCharacters: 16, path: '/srv/summary.txt', withinMs: 300_000 };
  const expected = 'the checksum of numbers.txt computed by a build step, written in no instruction';
  const judge = (contextChange: ContextChangeFacts | undefined) => computedInBuild.evaluate(facts({ probes: contextChange ? { contextChange } : {} }), params);
  const summaryHolder: ContextHolder = { path: 'summary.txt', holds: 'text' };

  it('asks for the rebuild only when it is told where the value is', () => {
    expect(computedInBuild.probes!(params)).toEqual({ contextChange: request });
    expect(computedInBuild.probes!(computedInBuild.params.parse({ value, name: 'n' }))).toEqual({});
  });

  it('passes when the rebuilt image still holds the value, when nothing in the folder holds it, and without a folder', () => {
    const pass = { status: 'pass', expected, actual: 'written in no instruction' };
    expect(judge({ ...request, outcome: 'rebuilt', holders: [summaryHolder], file: { state: 'read', holdsValue: true } })).toEqual(pass);
    expect(judge({ ...request, outcome: 'no-holder' })).toEqual(pass);
    expect(judge({ ...request, outcome: 'not-given' })).toEqual(pass);
    expect(judge(undefined)).toEqual(pass);
  });

  it('fails when the rebuilt image lost the value, names the files and what the rebuild found', () => {
    expect(judge({ ...request, outcome: 'rebuilt', holders: [summaryHolder], file: { state: 'read', holdsValue: false } })).toEqual({
      status: 'fail',
      expected,
      actual: 'taken from summary.txt of the build context',
      message:
        'The checksum of numbers.txt is not computed by the build but taken from the build context: summary.txt holds it, and the image from building the folder again with that file changed no longer holds the checksum of numbers.txt in /srv/summary.txt. COPY, ADD and RUN --mount=type=bind all bring a file of the folder in; the image must hold what its build worked out, so that a change to the input would change it too.',
    });
    const holders: ContextHolder[] = [summaryHolder, { path: 'numbers.txt', holds: 'checksum' }, { path: 'a', holds: 'text' }, { path: 'b', holds: 'text' }, { path: 'c', holds: 'text' }];
    const many = judge({ ...request, outcome: 'rebuilt', holders, file: { state: 'absent' } });
    expect(many).toMatchObject({ status: 'fail', actual: 'taken from 5 files of the build context' });
    expect(many.message).toContain('summary.txt, numbers.txt (the data the checksum of numbers.txt is of), a, b and 1 more hold it, and the image from building the folder again with those files changed has no /srv/summary.txt.');
    expect(judge({ ...request, outcome: 'rebuilt', holders: [summaryHolder], file: { state: 'not-a-file', type: 'directory' } }).message).toContain('has /srv/summary.txt as directory, not a file.');
  });

  it('cannot tell, and says why, when the folder is unreadable or the rebuild fails or runs out of time', () => {
    expect(judge({ ...request, outcome: 'unreadable', reason: '/root/exercises/lesson-4: no such folder' })).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Whether the checksum of numbers.txt came from the build context cannot be told: its folder could not be read (/root/exercises/lesson-4: no such folder).',
    });
    expect(judge({ ...request, outcome: 'build-failed', holders: [summaryHolder], error: 'failed to solve: "/x": not found' })).toMatchObject({
      status: 'skip',
      message: 'summary.txt in the build context holds the checksum of numbers.txt, and whether the image takes it from there cannot be told: building the folder again with that file changed failed (failed to solve: "/x": not found).',
    });
    expect(judge({ ...request, outcome: 'timed-out', holders: [summaryHolder] }).message).toContain('took longer than 300 s. Check again when the machine is less busy.');
  });

  it('shows an untrusted file name with its controls escaped', () => {
    const outcome = judge({ ...request, outcome: 'rebuilt', holders: [{ path: 'evil\u001b]0;owned\u0007\n.txt', holds: 'text' }], file: { state: 'absent' } });
    expect(outcome.message).not.toMatch(/[\u0000-\u001f]/);
    expect(outcome.status).toBe('fail');
  });
});
