import { describe, expect, it } from 'vitest';
import { expandWord, finalBaseOf } from '../../../runner/src/grader/facts/dockerfile.js';
import { baseNamedByDigest } from '../../../runner/src/grader/kinds/base-named-by-digest.js';
import type { DockerfileFacts } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// Lesson 9: the FROM line must name the signed-off release by the name that cannot move.

const digest = `sha256:${'ab'.repeat(32)}`;
const pinned = `localhost:5000/team/base@${digest}`;

describe('finalBaseOf: the final stage’s base, as BuildKit finds it', () => {
  it('reads a digest, a tag with a digest, and a platform flag', () => {
    expect(finalBaseOf(`FROM ${pinned}\nCOPY app.txt /srv/\n`)).toEqual({ fromLines: [`FROM ${pinned}`], reference: pinned, digest });
    expect(finalBaseOf(`FROM --platform=linux/amd64 localhost:5000/team/base:stable@${digest}\n`)).toMatchObject({ fromLines: [`FROM --platform=linux/amd64 localhost:5000/team/base:stable@${digest}`], digest });
    expect(finalBaseOf('FROM lesson-9-release-1\n')).toEqual({ fromLines: ['FROM lesson-9-release-1'], reference: 'lesson-9-release-1' });
  });

  it('follows stage names (in any case) back to the image, and only to earlier stages', () => {
    expect(finalBaseOf(`from ${pinned} as Release\nFROM busybox:latest AS app\nRUN true\nFROM release\nCOPY --from=app /bin/true /x\n`)).toEqual({
      fromLines: ['FROM release', `FROM ${pinned} as Release`],
      reference: pinned,
      digest,
    });
    expect(finalBaseOf(`FROM ${pinned} AS pinned\nFROM lesson-9-release-1\nCOPY --from=pinned /etc/team-release /etc/\n`)).toMatchObject({ reference: 'lesson-9-release-1' });
    expect(finalBaseOf('FROM lesson-9-release-1 AS base\nFROM base\n')).toMatchObject({ fromLines: ['FROM base', 'FROM lesson-9-release-1 AS base'], reference: 'lesson-9-release-1' });
  });

  it('fills in global build arguments’ defaults, and says when one has none', () => {
    expect(finalBaseOf(`ARG BASE=${pinned}\nFROM \${BASE}\n`)).toMatchObject({ reference: pinned, digest });
    expect(finalBaseOf('ARG BASE=lesson-9-release-1\nFROM $BASE\n')).toMatchObject({ reference: 'lesson-9-release-1' });
    expect(finalBaseOf('ARG BASE\nFROM $BASE\n')).toMatchObject({ reference: '', hasUnsetArgument: true });
    expect(finalBaseOf('ARG BASE\nFROM ${BASE}-extra\n')).toMatchObject({ reference: '-extra', hasUnsetArgument: true });
  });

  it('expands as BuildKit’s shell lexer does: defaults, alternatives, quotes, escapes, arguments built of arguments', () => {
    expect(finalBaseOf(`FROM \${BASE:-${pinned}}\n`)).toMatchObject({ reference: pinned, digest });
    expect(finalBaseOf(`ARG BASE\nFROM \${BASE:-${pinned}}\n`)).toMatchObject({ reference: pinned, digest });
    expect(finalBaseOf(`ARG BASE="${pinned}"\nFROM "$BASE"\n`)).toMatchObject({ reference: pinned, digest });
    expect(finalBaseOf(`ARG NAME=localhost:5000/team/base\nARG PIN=\${NAME}@${digest}\nFROM $PIN\n`)).toMatchObject({ reference: pinned, digest });
    // An ARG after the first FROM is not seen by FROM lines.
    expect(finalBaseOf(`FROM busybox AS first\nARG BASE=${pinned}\nFROM \${BASE:-lesson-9-release-1}\n`)).toMatchObject({ reference: 'lesson-9-release-1' });
    const variables = new Map<string, string | undefined>([['SET', 'a'], ['EMPTY', ''], ['UNSET', undefined]]);
    expect(expandWord('${SET:+b}${EMPTY:+c}${EMPTY+d}${UNSET-e}${EMPTY-f}${EMPTY:-g}', variables)).toEqual({ value: 'bdeg', hasUnset: false });
    expect(expandWord(`'$SET'\\$SET"$SET"$`, variables)).toEqual({ value: '$SET$SETa$', hasUnset: false });
    expect(expandWord('$UNSET${NOPE}x', variables)).toEqual({ value: 'x', hasUnset: true });
    expect(expandWord('${SET', variables)).toEqual({ value: '${SET', hasUnset: false });
    expect(expandWord('${SET%%x}', variables)).toEqual({ value: '', hasUnset: true });
  });

  it('reads continued lines and the escape directive, and a file with no FROM', () => {
    expect(finalBaseOf(`# escape=\`\nFROM \`\n  ${pinned}\n`)).toMatchObject({ reference: pinned, digest });
    expect(finalBaseOf('# nothing here\n')).toEqual({ fromLines: [], reference: '' });
    // A digest must be whole: 64 hex digits.
    expect(finalBaseOf('FROM x@sha256:abc\n')).toEqual({ fromLines: ['FROM x@sha256:abc'], reference: 'x@sha256:abc' });
  });
});

describe('base-named-by-digest', () => {
  const judge = (dockerfile: DockerfileFacts | undefined) => baseNamedByDigest.evaluate(facts({ probes: dockerfile ? { dockerfile } : {} }), {});
  const read = (text: string): DockerfileFacts => ({ outcome: 'read', path: '/root/exercises/lesson-9/Dockerfile', finalBase: finalBaseOf(text) });

  it('passes a base named by digest, through a stage', () => {
    expect(judge(read(`FROM ${pinned} AS base\nFROM base\n`))).toMatchObject({ status: 'pass', actual: `\`FROM base\`, through \`FROM ${pinned} AS base\`: ${pinned}` });
  });

  it('fails a tag, the local one too, saying it can move', () => {
    expect(judge(read('FROM lesson-9-release-1\n'))).toEqual({
      status: 'fail',
      expected: 'a FROM line that names the base by digest (name@sha256:…)',
      actual: 'lesson-9-release-1',
      message:
        '/root/exercises/lesson-9/Dockerfile: `FROM lesson-9-release-1` names lesson-9-release-1 by a tag, which can be moved to other content at any time (a registry\'s tag or a local one, as `docker tag` makes). Name the image by its digest, `name@sha256:…`, the one name that cannot move.',
    });
    expect(judge(read('FROM scratch\n'))).toMatchObject({ status: 'fail', message: expect.stringContaining('names scratch, no image at all') });
    expect(judge(read('ARG BASE\nFROM $BASE\n'))).toMatchObject({ status: 'fail', message: expect.stringContaining('`FROM $BASE` uses a build argument that has no value, so what it names is up to whoever builds it') });
    expect(judge(read('\n'))).toMatchObject({ status: 'fail', actual: 'no FROM line' });
  });

  it('does not pass what it could not read, saying why', () => {
    expect(judge(undefined)).toMatchObject({ status: 'skip' });
    expect(judge({ outcome: 'not-given' })).toMatchObject({ status: 'skip', message: expect.stringContaining('--exercise-folder DIR') });
    expect(judge({ outcome: 'unreadable', reason: '/root/exercises/lesson-9 has no Dockerfile' })).toMatchObject({ status: 'fail', actual: 'no Dockerfile' });
  });

  it('shows a hostile FROM line escaped', () => {
    const outcome = judge(read('FROM evil\u001b]0;pwned\u0007\n'));
    expect(outcome.status).toBe('fail');
    expect(JSON.stringify(outcome)).not.toMatch(/\u001b|\u0007/);
  });
});
