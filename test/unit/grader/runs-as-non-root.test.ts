import { describe, expect, it } from 'vitest';
import { goAtoi, parsePasswd, runsAsNonRoot } from '../../../runner/src/grader/kinds/runs-as-non-root.js';
import type { FileFacts, LayerFacts } from '../../../runner/src/grader/types.js';
import { facts, layer } from './builders.js';

// Who the container's process runs as, word for word, as runc would resolve USER.

const expected = 'a user other than root (uid 0)';
const passwdText = 'root:x:0:0:root:/root:/bin/sh\n\n  app:x:1000:1000::/app:/bin/sh  \nodd:x:abc:0::/:/bin/sh\napp:x:0:0:second app:/:/bin/sh\n';
const passwd = (overrides: Partial<FileFacts> = {}): FileFacts => ({ path: 'etc/passwd', type: 'file', sizeBytes: passwdText.length, mode: 0o644, layer: 0, content: Buffer.from(passwdText), ...overrides });
const judge = (user: string, files: FileFacts[] = [passwd()], layers?: LayerFacts[]) =>
  runsAsNonRoot.evaluate(facts({ config: { ...facts().config, user }, ...(layers ? { layers } : {}) }, files), {});

describe('runs-as-non-root: reading uids and /etc/passwd as runc does', () => {
  it('reads a uid as Go strconv.Atoi does', () => {
    expect(goAtoi('1000')).toBe(1000);
    expect(goAtoi('+0')).toBe(0);
    expect(goAtoi('-5')).toBe(-5);
    for (const text of ['', '1a', 'a1', '1.0', ' 1', '1 ', '+', '0x10']) expect(goAtoi(text), text).toBeUndefined();
  });

  it('reads names and uids, skipping blank lines and taking a uid that is not a number as 0', () => {
    expect(parsePasswd(passwdText)).toEqual([
      { name: 'root', uid: 0 },
      { name: 'app', uid: 1000 },
      { name: 'odd', uid: 0 },
      { name: 'app', uid: 0 },
    ]);
    expect(parsePasswd('short')).toEqual([{ name: 'short', uid: 0 }]);
  });

  it('asks for /etc/passwd and takes no parameters', () => {
    expect(runsAsNonRoot.probes?.({})).toEqual({ fileContents: ['/etc/passwd'] });
    expect(runsAsNonRoot.params.safeParse({}).success).toBe(true);
  });
});

describe('runs-as-non-root: verdicts', () => {
  it('fails no USER, and one with no user part', () => {
    expect(judge('')).toEqual({ status: 'fail', expected, actual: 'root (no USER set)', message: 'The image sets no USER, so its process runs as root.' });
    expect(judge(':1000')).toEqual({ status: 'fail', expected, actual: 'USER :1000: root', message: 'The image sets USER :1000, which names no user, so its process runs as root.' });
  });

  it('passes a numeric uid without looking anything up, and fails uid 0 however written', () => {
    expect(judge('65532:0', [])).toEqual({ status: 'pass', expected, actual: 'USER 65532:0 (uid 65532)' });
    expect(judge('1', [])).toEqual({ status: 'pass', expected, actual: 'USER 1 (uid 1)' });
    expect(judge('+0:1000')).toEqual({ status: 'fail', expected, actual: 'USER +0:1000: root', message: "The image sets USER +0:1000: +0 is uid 0, root's, so its process runs as root." });
    expect(judge('-1')).toEqual({ status: 'fail', expected, actual: 'USER -1', message: 'USER -1 is a negative uid, so no container can start from the image.' });
  });

  it('looks a name up, the first line with it winning', () => {
    expect(judge('app:root')).toEqual({ status: 'pass', expected, actual: 'USER app:root (uid 1000 in /etc/passwd)' });
    expect(judge('root')).toEqual({ status: 'fail', expected, actual: 'USER root: root', message: "The image sets USER root: /etc/passwd gives root uid 0, root's, so its process runs as root." });
    expect(judge('odd').status).toBe('fail');
    expect(judge('ghost')).toEqual({
      status: 'fail',
      expected,
      actual: 'USER ghost, not in /etc/passwd',
      message: 'The image sets USER ghost, but /etc/passwd has no user ghost, so no container can start from it ("unable to find user ghost").',
    });
  });

  it('fails a name when there is no /etc/passwd, or only a folder of that name', () => {
    const noPasswd = {
      status: 'fail',
      expected,
      actual: 'USER app, no /etc/passwd',
      message: 'The image sets USER app, but it has no /etc/passwd to look that name up in, so no container can start from it ("unable to find user app"). A numeric uid works without one.',
    };
    expect(judge('app', [])).toEqual(noPasswd);
    expect(judge('app', [passwd({ type: 'directory', content: undefined })])).toEqual(noPasswd);
  });

  it('follows a link to /etc/passwd', () => {
    const link: FileFacts = { path: 'etc/passwd', type: 'symlink', linkTarget: '/usr/share/passwd', sizeBytes: 0, mode: 0o777, layer: 0 };
    expect(judge('app', [link, passwd({ path: 'usr/share/passwd' })]).status).toBe('pass');
    expect(judge('app', [link, passwd({ path: 'usr/share/passwd', content: undefined, sizeBytes: 100 })])).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Could not tell who app is: /etc/passwd is reached through a link (to /usr/share/passwd) that was not read.',
    });
  });

  it('cannot decide when /etc/passwd was too big to read, or in no layer that was read', () => {
    expect(judge('app', [passwd({ content: undefined, sizeBytes: 70_000 })])).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Could not tell who app is: /etc/passwd is 70 kB, more than the 65.5 kB the grader reads.',
    });
    expect(judge('app', [passwd({ content: undefined, sizeBytes: 64 * 1024 })]).message).toBe('Could not tell who app is: /etc/passwd is reached through a link (to /etc/passwd) that was not read.');
    expect(judge('app', [], [layer(0, { unreadable: 'it is compressed with zstd' })])).toEqual({
      status: 'skip',
      expected,
      actual: 'unknown',
      message: 'Could not decide: /etc/passwd, where app would be looked up, is in none of the layers that were read, but layer 1 could not be read (it is compressed with zstd).',
    });
  });
});
