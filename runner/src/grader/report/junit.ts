import type { CheckResult, CheckRun } from '../types.js';
import { escapeLine, escapeText } from './untrusted.js';

/**
 * JUnit XML, as CI report viewers read it (GitLab, Jenkins, GitHub test-report actions):
 * one testsuite per run, one testcase per check. Failed checks carry <failure> with the
 * found and expected values, the message and the hint; checks that could not be judged
 * are <skipped>; advice that did not hold is reported in <system-out> and does not fail.
 */
export function renderJunit(run: CheckRun): string {
  const failures = run.checks.filter((check) => check.status === 'fail' && !check.isAdvisory).length;
  const skipped = run.checks.filter((check) => check.status === 'skip').length;
  const seconds = (run.durationMs / 1000).toFixed(3);
  const suiteName = `${run.exercise} (${run.image})`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="course check" tests="${run.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="${xmlAttribute(suiteName)}" tests="${run.checks.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}" timestamp="${xmlAttribute(run.startedAt.replace(/\.\d+Z$/, ''))}">`,
    '    <properties>',
    `      <property name="image" value="${xmlAttribute(run.image)}"/>`,
    ...(run.imageId ? [`      <property name="imageId" value="${xmlAttribute(run.imageId)}"/>`] : []),
    `      <property name="engine" value="${xmlAttribute(`${run.engine.address} (Docker ${run.engine.version})`)}"/>`,
    '    </properties>',
    ...run.checks.map((check) => testcase(run, check)),
    '  </testsuite>',
    '</testsuites>',
  ];
  return `${lines.join('\n')}\n`;
}

function testcase(run: CheckRun, check: CheckResult): string {
  const open = `    <testcase classname="${xmlAttribute(run.exercise)}" name="${xmlAttribute(`${check.id}: ${check.title}`)}" time="0">`;
  const details = [`Expected: ${escapeLine(check.expected)}`, `Actual: ${escapeLine(check.actual)}`, ...(check.message ? [check.message] : []), `Hint: ${check.hint}`].join('\n');
  if (check.status === 'skip') return `${open}\n      <skipped message="${xmlAttribute(check.message ?? 'not checked')}"/>\n    </testcase>`;
  if (check.status === 'fail' && check.isAdvisory) {
    return `${open}\n      <system-out>${xml(`Advice (does not fail the exercise):\n${details}`)}</system-out>\n    </testcase>`;
  }
  if (check.status === 'fail') {
    return `${open}\n      <failure message="${xmlAttribute(`expected ${escapeLine(check.expected)}, found ${escapeLine(check.actual)}`)}" type="${xmlAttribute(check.kind)}">${xml(details)}</failure>\n    </testcase>`;
  }
  return `${open}</testcase>`;
}

/**
 * Escapes for XML 1.0 text and attributes. Controls (XML 1.0 forbids most of them; names and
 * log output may hold any) are first shown as visible escapes, as in the text report; what
 * XML still cannot hold (U+FFFE, U+FFFF) is dropped.
 */
export function xml(text: string): string {
  return escapeText(text)
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** As `xml`, for attribute values: newlines and tabs as character references, which parsers keep. */
export function xmlAttribute(text: string): string {
  return xml(text).replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}
