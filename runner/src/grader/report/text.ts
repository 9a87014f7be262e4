import type { Paint } from '../../cli/style.js';
import { formatSize } from '../describe.js';
import type { CheckResult, CheckRun } from '../types.js';
import { escapeLine, escapeText } from './untrusted.js';

const plainPaint: Paint = { bold: (t) => t, dim: (t) => t, green: (t) => t, red: (t) => t, yellow: (t) => t, cyan: (t) => t };

/**
 * The report for people: each check, and for each failure what was found, what was
 * expected, and a hint. Everything that can come from an image (names, instructions,
 * output) is shown with its control characters escaped (see untrusted.ts).
 */
export function renderText(run: CheckRun, paint: Paint = plainPaint): string {
  const lines: string[] = [];
  const imageText = run.imageId ? `${escapeLine(run.image)} (${run.imageId.replace(/^sha256:/, '').slice(0, 12)}, ${formatSize(run.sizeBytes ?? 0)})` : escapeLine(run.image);
  lines.push(`${paint.bold(`Checking ${escapeLine(run.exercise)}`)}: image ${imageText} on ${escapeLine(run.engine.address)}`, '');
  for (const check of run.checks) lines.push(...renderCheck(check, paint));
  if (run.layers.length) {
    lines.push('', paint.bold('Layers, bottom to top:'));
    for (const layer of run.layers) {
      const tools = layer.buildTools.length ? paint.red(` [${layer.buildTools.length} build tool${layer.buildTools.length === 1 ? '' : 's'}]`) : '';
      const instruction = layer.instruction !== undefined ? escapeLine(layer.instruction) : '(no history)';
      lines.push(`  ${String(layer.index + 1).padStart(2)}  ${formatSize(layer.sizeBytes).padStart(8)}  ${instruction}${tools}`);
    }
  }
  lines.push('');
  const failed = run.checks.filter((check) => !check.passed && !check.isAdvisory);
  if (run.passed) {
    lines.push(paint.green(`All ${run.checks.filter((check) => !check.isAdvisory).length} checks passed.`));
  } else {
    lines.push(paint.red(`${failed.length} of ${run.checks.filter((check) => !check.isAdvisory).length} checks did not pass.`) + ` Fix, rebuild, and run \`course check ${run.exercise}\` again.`);
  }
  return `${lines.join('\n')}\n`;
}

function renderCheck(check: CheckResult, paint: Paint): string[] {
  const mark =
    check.status === 'pass' ? paint.green('✓') : check.status === 'skip' ? paint.yellow('-') : check.isAdvisory ? paint.yellow('!') : paint.red('✗');
  const advice = check.isAdvisory ? paint.dim(' (advice)') : '';
  const head = `${mark} ${escapeLine(check.title)}${advice} ${paint.dim(`[${escapeLine(check.id)}]`)}`;
  if (check.status === 'pass') return [`${head} ${paint.dim(`— ${escapeLine(check.actual)}`)}`];
  if (check.status === 'skip') return [head, ...indent(escapeText(check.message ?? ''))];
  return [
    head,
    `    found:    ${escapeLine(check.actual)}`,
    `    expected: ${escapeLine(check.expected)}`,
    ...indent(escapeText(check.message ?? '')),
    ...indent(`${paint.cyan('hint:')} ${escapeText(check.hint)}`),
  ];
}

function indent(text: string): string[] {
  return text ? text.split('\n').map((line) => `    ${line}`) : [];
}
