import sax from 'sax';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../../runner/src/grader/report/json.js';
import { renderJunit } from '../../../runner/src/grader/report/junit.js';
import { renderText } from '../../../runner/src/grader/report/text.js';
import { escapeLine, escapeText } from '../../../runner/src/grader/report/untrusted.js';
import type { CheckRun } from '../../../runner/src/grader/types.js';

/** Names as a hostile image could hold them: terminal escapes, line breaks, bidi overrides, markup. */
const retitle = '\u001b]0;pwned\u0007';
const clearScreen = '\u001b[2J';
const clipboard = '\u001b]52;c;cm0gLXJmIH4=\u001b\\';
const hostile = `/opt/${retitle}${clearScreen}<x a="1">&amp;'\n✓ All checks passed\r\u009b31m\u202egnp.exe\u2028${clipboard}\ud800\u0000`;

/** Characters that must never reach a terminal raw. */
const rawControls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const run: CheckRun = {
  exercise: 'lesson-7',
  image: 'lesson-7',
  imageId: 'sha256:7c44bc296a1b521b575e0b38d54d45fd0cb3f9b0841e85a5d160ebf2756b5e38',
  engine: { address: 'unix:///tmp/docker.sock', version: '26.1.5' },
  passed: false,
  checks: [
    {
      id: 'no-build-tools', title: 'No build tools ship', kind: 'build-tools-absent', status: 'fail', passed: false, isAdvisory: false,
      expected: 'no build tools', actual: `make at ${hostile}`, message: `Found in layer 2:\n  ${hostile} (contains "GNU Make")`, hint: 'Build in one stage.',
    },
    { id: 'runs', title: 'It answers', kind: 'http-responds', status: 'skip', passed: false, isAdvisory: false, expected: '', actual: 'not checked', message: `Its last output:\n  ${hostile}`, hint: 'h' },
    { id: 'user', title: 'Not root', kind: 'runs-as-non-root', status: 'pass', passed: true, isAdvisory: false, expected: 'a user', actual: hostile, hint: 'h' },
  ],
  layers: [{ index: 0, diffId: 'sha256:a', sizeBytes: 1e6, instruction: `RUN touch ${hostile}`, createdBy: `RUN touch ${hostile}`, buildTools: [hostile] }],
  sizeBytes: 1e6,
  archiveLayout: 'oci',
  startedAt: '2026-11-23T02:00:00.000Z',
  durationMs: 1234,
};

describe('escaping untrusted text', () => {
  it('shows every control character as a visible escape', () => {
    expect(escapeLine('a\u001b[2Jb\u0007c\nd\re\u0085f\u202eg\u2066h\u0000i\u007fj\ttab')).toBe('a\\e[2Jb\\ac\\nd\\re\\x85f\\u202eg\\u2066h\\x00i\\x7fj\ttab');
    expect(escapeText('line one\nline\rtwo\u001b')).toBe('line one\nline\\rtwo\\e');
    expect(escapeLine('\ud800 lone, 😀 paired')).toBe('\\ud800 lone, 😀 paired');
    expect(escapeLine('plain: ünïcode, 日本, tab\tand \\ backslash')).toBe('plain: ünïcode, 日本, tab\tand \\ backslash');
  });
});

describe('reports of an image with hostile names', () => {
  it('text: no control character reaches the terminal, and a name cannot pass for a check result', () => {
    const text = renderText(run);
    expect(text).not.toMatch(rawControls);
    expect(text).toContain('/opt/\\e]0;pwned\\a\\e[2J<x a="1">&amp;\'\\n✓ All checks passed\\r\\x9b31m\\u202egnp.exe\\u2028\\e]52;c;cm0gLXJmIH4=\\e\\\\ud800\\x00');
    // One-line fields escape newlines; a message keeps its lines, each indented under its check.
    expect(text.split('\n').filter((line) => line.startsWith('✓'))).toEqual([`✓ Not root [user] — ${escapeLine(hostile)}`]);
    expect(text).toContain(`found:    make at ${escapeLine(hostile)}`);
    expect(text).toContain(`RUN touch ${escapeLine(hostile)}`);
  });

  it('JUnit: well-formed XML 1.0 that keeps the names readable', () => {
    const xmlText = renderJunit(run);
    const texts: string[] = [];
    const attributes: string[] = [];
    const parser = sax.parser(true);
    parser.onerror = (error) => {
      throw error;
    };
    parser.ontext = (value) => texts.push(value);
    parser.onopentag = (tag) => attributes.push(...Object.values(tag.attributes as Record<string, string>));
    parser.write(xmlText).close();
    expect(attributes).toContain(`expected no build tools, found make at ${escapeLine(hostile)}`);
    expect(texts.join('')).toContain(`Found in layer 2:\n  ${escapeText(hostile)}`);
    expect(xmlText).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  });

  it('JSON: valid, and the names come back exactly as the image has them', () => {
    const report = JSON.parse(renderJson(run));
    expect(report.checks[0].actual).toBe(`make at ${hostile}`);
    expect(report.layers[0].buildTools).toEqual([hostile]);
    expect(renderJson(run)).not.toMatch(rawControls);
  });
});
