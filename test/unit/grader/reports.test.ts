import { describe, expect, it } from 'vitest';
import { paintFor } from '../../../runner/src/cli/style.js';
import { renderJson } from '../../../runner/src/grader/report/json.js';
import { renderJunit, xml } from '../../../runner/src/grader/report/junit.js';
import { renderText } from '../../../runner/src/grader/report/text.js';
import type { CheckRun } from '../../../runner/src/grader/types.js';

const run: CheckRun = {
  exercise: 'lesson-7',
  image: 'lesson-7',
  imageId: 'sha256:7c44bc296a1b521b575e0b38d54d45fd0cb3f9b0841e85a5d160ebf2756b5e38',
  engine: { address: 'unix:///tmp/docker.sock', version: '26.1.5' },
  passed: false,
  checks: [
    { id: 'size', title: 'The image is at most 20 MB', kind: 'max-size', status: 'fail', passed: false, isAdvisory: false, expected: 'at most 20 MB', actual: '719 MB', message: 'The image is 719 MB <big> & "fat"\u0007.', hint: 'Which stage ships?' },
    { id: 'runs', title: 'It answers', kind: 'http-responds', status: 'pass', passed: true, isAdvisory: false, expected: 'an answer', actual: 'HTTP 200 after 10 ms', hint: 'Run it.' },
    { id: 'layers', title: 'Few layers', kind: 'max-layers', status: 'skip', passed: false, isAdvisory: false, expected: '', actual: 'not checked', message: 'Not checked.', hint: 'h' },
    { id: 'runs-as-non-root', title: 'Not root', kind: 'runs-as-non-root', status: 'fail', passed: false, isAdvisory: true, expected: 'a user', actual: 'root', message: 'No USER.', hint: 'USER.' },
  ],
  layers: [{ index: 0, diffId: 'sha256:a', sizeBytes: 719e6, instruction: 'RUN apt-get install golang-go', buildTools: ['/usr/bin/go'] }],
  sizeBytes: 719e6,
  archiveLayout: 'oci',
  startedAt: '2026-11-23T02:00:00.000Z',
  durationMs: 1234,
};

describe('the JSON report', () => {
  it('has the documented shape', () => {
    const report = JSON.parse(renderJson(run));
    expect(report).toMatchObject({ schemaVersion: 1, exercise: 'lesson-7', image: 'lesson-7', passed: false, durationMs: 1234 });
    expect(report.checks[0]).toEqual({
      id: 'size', title: 'The image is at most 20 MB', passed: false, status: 'fail', advisory: false,
      expected: 'at most 20 MB', actual: '719 MB', message: 'The image is 719 MB <big> & "fat"\u0007.', hint: 'Which stage ships?',
    });
    expect(report.layers[0].buildTools).toEqual(['/usr/bin/go']);
  });
});

describe('the JUnit report', () => {
  const text = renderJunit(run);

  it('has one testcase per check, with failures and skips counted', () => {
    expect(text.match(/<testcase /g)).toHaveLength(4);
    expect(text).toContain('<testsuite name="lesson-7 (lesson-7)" tests="4" failures="1" errors="0" skipped="1"');
    expect(text).toContain('<failure message="expected at most 20 MB, found 719 MB" type="max-size">');
    expect(text).toContain('<skipped message="Not checked."/>');
  });

  it('does not fail the suite for advice', () => {
    expect(text).toMatch(/name="runs-as-non-root: Not root" time="0">\n\s*<system-out>Advice/);
  });

  it('escapes markup and shows characters XML forbids as visible escapes', () => {
    expect(text).toContain('&lt;big&gt; &amp; &quot;fat&quot;\\a.');
    expect(text).not.toContain('\u0007');
    expect(xml('a\u0000b<\uffff')).toBe('a\\x00b&lt;');
  });
});

describe('the text report', () => {
  it('shows found, expected and the hint for each failure, and the layers', () => {
    const text = renderText(run);
    expect(text).toContain('✗ The image is at most 20 MB [size]\n    found:    719 MB\n    expected: at most 20 MB\n');
    expect(text).toContain('    hint: Which stage ships?');
    expect(text).toContain('! Not root (advice) [runs-as-non-root]');
    expect(text).toContain('RUN apt-get install golang-go [1 build tool]');
    expect(text).toContain('2 of 3 checks did not pass.');
  });

  /** Runs `body` with NO_COLOR and FORCE_COLOR as given (undefined: unset), restoring them after. */
  function withColourEnv(env: { NO_COLOR?: string; FORCE_COLOR?: string }, body: () => void): void {
    const previous = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
    const apply = (values: typeof env) => {
      for (const name of ['NO_COLOR', 'FORCE_COLOR'] as const) {
        if (values[name] === undefined) delete process.env[name];
        else process.env[name] = values[name];
      }
    };
    apply(env);
    try {
      body();
    } finally {
      apply(previous);
    }
  }
  const terminal = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it('colours each verdict on a terminal: red for a failure, yellow for advice and skips, green for a pass', () => {
    withColourEnv({}, () => {
      const text = renderText(run, paintFor(terminal));
      expect(text).toContain('\x1b[31m✗\x1b[39m The image is at most 20 MB');
      expect(text).toContain('\x1b[32m✓\x1b[39m It answers');
      expect(text).toContain('\x1b[33m-\x1b[39m Few layers');
      expect(text).toContain('\x1b[33m!\x1b[39m Not root');
      expect(text).toContain('\x1b[31m2 of 3 checks did not pass.\x1b[39m');
      // Colour never changes the words: stripped, it is the plain report.
      expect(text.replace(/\x1b\[\d+m/g, '')).toBe(renderText(run));
    });
  });

  it('colours when FORCE_COLOR is set even into a pipe, and never when NO_COLOR is set', () => {
    withColourEnv({}, () => expect(renderText(run, paintFor(pipe))).not.toContain('\x1b['));
    withColourEnv({ FORCE_COLOR: '1' }, () => expect(renderText(run, paintFor(pipe))).toContain('\x1b[31m✗'));
    withColourEnv({ NO_COLOR: '1' }, () => expect(renderText(run, paintFor(terminal))).not.toContain('\x1b['));
    withColourEnv({ NO_COLOR: '1', FORCE_COLOR: '1' }, () => expect(renderText(run, paintFor(terminal))).not.toContain('\x1b['));
  });
});
