import { describe, expect, it } from 'vitest';
import { compareOutput, IdBindings, normaliseLine } from '../../lessons/compare-output.js';

const exact = (text: string) => ({ text, isTrimmed: false, hasApproxSizes: false });

describe('compareOutput', () => {
  it('ignores times, durations and column widths', () => {
    expect(normaliseLine('hello   v1    5 minutes ago   78MB')).toBe(normaliseLine('hello v1 About an hour ago 78MB'));
    expect(normaliseLine('#6 DONE 0.1s')).toBe(normaliseLine('#6 DONE 12.5s'));
    const result = compareOutput(exact('busybox  latest  2eb1d29be7e6   41 minutes ago   2.03MB'), 'busybox latest 0123456789ab 3 seconds ago 2.03MB\n', new IdBindings());
    expect(result.matches).toBe(true);
  });

  it('reads BuildKit progress lines the way a reader does', () => {
    const shown = exact('#1 transferring dockerfile: 76B 0.0s done\n#6 [2/2] COPY app.txt /app/');
    expect(compareOutput(shown, '#1 transferring dockerfile:\n#1 transferring dockerfile: 76B done\n#6 [2/2] COPY app.txt /app/', new IdBindings()).matches).toBe(true);
    expect(compareOutput(shown, '#1 transferring dockerfile: 29B 0.1s\n#1 transferring dockerfile: 76B 0.1s done\n#6 [2/2] COPY app.txt /app/', new IdBindings()).matches).toBe(true);
    expect(compareOutput(shown, '#1 transferring dockerfile: 77B done\n#6 [2/2] COPY app.txt /app/', new IdBindings()).matches).toBe(false);
  });

  it('keeps sizes exact unless marked approx', () => {
    expect(compareOutput(exact('layer 30B'), 'layer 35B', new IdBindings()).matches).toBe(false);
    expect(compareOutput({ text: 'debian 78MB', isTrimmed: false, hasApproxSizes: true }, 'debian 80.1MB', new IdBindings()).matches).toBe(true);
    expect(compareOutput({ text: 'debian 78MB', isTrimmed: false, hasApproxSizes: true }, 'debian 90MB', new IdBindings()).matches).toBe(false);
    // What the lesson itself made stays exact even in an approx block.
    expect(compareOutput({ text: 'debian 78MB mine 30B', isTrimmed: false, hasApproxSizes: true }, 'debian 79MB mine 31B', new IdBindings()).matches).toBe(false);
  });

  it('holds an ID the lesson shows twice to one real ID, and two shown IDs to two real ones', () => {
    const ids = new IdBindings();
    expect(compareOutput(exact('sha256:f8fa74988f89cb23aef74c1904941702678d7e9bc35570fdb9b1eb8850358e09'), 'sha256:aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', ids).matches).toBe(true);
    // The short form of the same shown ID must be the short form of the same real ID.
    expect(compareOutput(exact('debian f8fa74988f89'), 'debian cccccccccccc', ids).matches).toBe(false);
    expect(compareOutput(exact('debian f8fa74988f89'), 'debian aaaaaaaaaaaa', ids).matches).toBe(true);
    // A different shown ID may not take a real ID that is already bound to another.
    expect(compareOutput(exact('golang 644778825c6d'), 'golang aaaaaaaaaaaa', ids).matches).toBe(false);
  });

  it('fails on lines the lesson leaves out, unless trimmed or cut with an ellipsis line', () => {
    expect(compareOutput(exact('a\nc'), 'a\nb\nc', new IdBindings()).matches).toBe(false);
    expect(compareOutput(exact('a\n…\nc'), 'a\nb\nb2\nc', new IdBindings()).matches).toBe(true);
    expect(compareOutput({ text: 'a\nc', isTrimmed: true, hasApproxSizes: false }, 'a\nb\nc\nd', new IdBindings()).matches).toBe(true);
    expect(compareOutput({ text: 'c\na', isTrimmed: true, hasApproxSizes: false }, 'a\nb\nc', new IdBindings()).matches).toBe(false);
    expect(compareOutput(exact('a\nb'), 'a', new IdBindings())).toMatchObject({ matches: false, reason: expect.stringContaining('(no more lines)') });
  });

  it('lets a shown line that ends with an ellipsis stand for the start of the real one', () => {
    expect(compareOutput(exact('✓ holds the summary [same-summary] — …'), '✓ holds the summary [same-summary] — "5000000", from layer 4', new IdBindings()).matches).toBe(true);
    expect(compareOutput(exact('✓ holds the summary [same-summary] — …'), '✗ holds the summary [same-summary] — "5000000"', new IdBindings()).matches).toBe(false);
  });

  it('after a gap, tries a later real line when the first that matches leads nowhere', () => {
    const shown = exact('history:\n…\n{\n"by": "RUN mine"\n}');
    expect(compareOutput(shown, 'history:\n{\n"by": "COPY base"\n}\n{\n"by": "RUN mine"\n}', new IdBindings()).matches).toBe(true);
    expect(compareOutput(shown, 'history:\n{\n"by": "COPY base"\n}', new IdBindings()).matches).toBe(false);
  });

  it('matches unordered lines as a set, each real line once', () => {
    const unordered = (text: string) => ({ text, isTrimmed: false, hasApproxSizes: false, isUnordered: true });
    expect(compareOutput(unordered('C /etc\nD /etc/motd'), 'D /etc/motd\nC /etc', new IdBindings()).matches).toBe(true);
    expect(compareOutput(unordered('C /etc\nC /etc'), 'C /etc\nD /etc/motd', new IdBindings()).matches).toBe(false);
    expect(compareOutput(unordered('C /etc'), 'C /etc\nD /etc/motd', new IdBindings()).matches).toBe(false);
  });

  it('ignores colour codes and carriage-return redraws in what the sandbox printed', () => {
    expect(compareOutput(exact('done'), '\x1b[32mworking\rdone\x1b[0m\n', new IdBindings()).matches).toBe(true);
  });
});
