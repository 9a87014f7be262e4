/**
 * Reads a lesson's MDX into the steps `lessons:verify` replays: each shell block, and the
 * output block that follows it when there is one. Pure: text in, steps out.
 *
 * The grammar, in the lesson's own source (authors write it; learners never see the meta):
 * - A ```sh block is a command the learner types. It runs in the sandbox, in one shell that
 *   keeps its folder and variables from block to block. A block whose first word is `course`
 *   runs on the learner's machine, as the lesson tells them to.
 * - The first ```text block after a shell block, with no other code block between, is what that
 *   command prints. Later text blocks (a file's content, a line to type) are not outputs.
 * - Meta words on an output fence (```text trimmed approx):
 *     trimmed   the shown lines appear in this order in the real output, with others between;
 *     approx    sizes (and plain numbers) of a megabyte or more may differ by up to 10 %: they
 *               follow Debian's packages; smaller ones stay exact;
 *     unordered the lines may come in any order (docker diff; images made in one second);
 *     loose-sizes every size, and every number of 3 digits or more, may differ by 25 %: sizes
 *               that include file times or protocol overhead (BuildKit's "transferring
 *               context", a compressed layer's size in a manifest);
 *     any-ids   the block's IDs are names picked at random (a listing of overlay2 folders):
 *               any ID matches, and none is held to the rest of the lesson.
 *   A line that is only `…` inside an output stands for any number of lines.
 * - Meta words on a shell fence: `fails` (a non-zero exit is what the lesson shows),
 *   `timeout=N` (seconds; 300 by default).
 * - A block inside <NotInSandbox reason="…"> … </NotInSandbox> is not run; the learner sees the
 *   reason, and the report lists it.
 */

export interface ShellStep {
  kind: 'shell';
  /** 1-based line of the opening fence in the MDX file. */
  line: number;
  command: string;
  runsOnHost: boolean;
  mayFail: boolean;
  timeoutSeconds: number;
  output?: ExpectedOutput;
}

export interface ExpectedOutput {
  line: number;
  text: string;
  isTrimmed: boolean;
  hasApproxSizes: boolean;
  isUnordered: boolean;
  hasLooseSizes: boolean;
  hasAnyIds: boolean;
}

export interface SkippedStep {
  kind: 'skipped';
  line: number;
  command: string;
  reason: string;
}

export type LessonStep = ShellStep | SkippedStep;

const shellLanguages = new Set(['sh', 'bash', 'shell']);
const outputLanguages = new Set(['text', 'console-output', 'output']);
const knownShellMeta = /^(fails|timeout=\d+)$/;
const knownOutputMeta = /^(trimmed|approx|unordered|loose-sizes|any-ids)$/;
export const defaultTimeoutSeconds = 300;

export class LessonFormatError extends Error {}

interface Fence {
  line: number;
  language: string;
  meta: string[];
  body: string;
  notInSandbox?: string;
}

export function parseLesson(source: string, fileName = 'lesson'): LessonStep[] {
  const fences = readFences(source, fileName);
  const steps: LessonStep[] = [];
  let previousShell: ShellStep | undefined;
  for (const fence of fences) {
    if (shellLanguages.has(fence.language)) {
      if (fence.notInSandbox !== undefined) {
        steps.push({ kind: 'skipped', line: fence.line, command: fence.body, reason: fence.notInSandbox });
        previousShell = undefined;
        continue;
      }
      for (const word of fence.meta) {
        if (!knownShellMeta.test(word)) throw new LessonFormatError(`${fileName}:${fence.line}: unknown word "${word}" on a shell fence; allowed: fails, timeout=N.`);
      }
      const timeout = fence.meta.find((word) => word.startsWith('timeout='));
      const step: ShellStep = {
        kind: 'shell',
        line: fence.line,
        command: fence.body,
        runsOnHost: /^course(\s|$)/.test(fence.body.trim()),
        mayFail: fence.meta.includes('fails'),
        timeoutSeconds: timeout ? Number(timeout.slice('timeout='.length)) : defaultTimeoutSeconds,
      };
      steps.push(step);
      previousShell = step;
      continue;
    }
    if (outputLanguages.has(fence.language) && previousShell && fence.notInSandbox === undefined) {
      for (const word of fence.meta) {
        if (!knownOutputMeta.test(word)) throw new LessonFormatError(`${fileName}:${fence.line}: unknown word "${word}" on an output fence; allowed: trimmed, approx, unordered, loose-sizes, any-ids.`);
      }
      previousShell.output = {
        line: fence.line,
        text: fence.body,
        isTrimmed: fence.meta.includes('trimmed'),
        hasApproxSizes: fence.meta.includes('approx'),
        isUnordered: fence.meta.includes('unordered'),
        hasLooseSizes: fence.meta.includes('loose-sizes'),
        hasAnyIds: fence.meta.includes('any-ids'),
      };
    }
    previousShell = undefined;
  }
  return steps;
}

const openNotInSandbox = /^\s*<NotInSandbox\s+reason=(?:"([^"]*)"|'([^']*)'|\{["'`]([^"'`]*)["'`]\})\s*>\s*$/;
const closeNotInSandbox = /^\s*<\/NotInSandbox>\s*$/;

function readFences(source: string, fileName: string): Fence[] {
  const lines = source.split('\n');
  const fences: Fence[] = [];
  let reason: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const open = openNotInSandbox.exec(line);
    if (open) {
      if (reason !== undefined) throw new LessonFormatError(`${fileName}:${index + 1}: <NotInSandbox> inside another; close the first one.`);
      reason = open[1] ?? open[2] ?? open[3] ?? '';
      if (!reason.trim()) throw new LessonFormatError(`${fileName}:${index + 1}: <NotInSandbox> needs a reason="…" the learner can read.`);
      continue;
    }
    if (/<NotInSandbox\b/.test(line)) throw new LessonFormatError(`${fileName}:${index + 1}: write <NotInSandbox reason="…"> alone on its line, so lessons:verify can read it.`);
    if (closeNotInSandbox.test(line)) {
      reason = undefined;
      continue;
    }
    const fence = /^(\s*)(`{3,})([\w-]*)\s*(.*)$/.exec(line);
    if (!fence) continue;
    const [, indent, ticks, language, meta] = fence as unknown as [string, string, string, string, string];
    const openLine = index + 1;
    const body: string[] = [];
    let closed = false;
    for (index++; index < lines.length; index++) {
      const inner = lines[index]!;
      if (inner.trim() === ticks && inner.startsWith(indent)) {
        closed = true;
        break;
      }
      body.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner);
    }
    if (!closed) throw new LessonFormatError(`${fileName}:${openLine}: this code fence is never closed.`);
    fences.push({ line: openLine, language, meta: meta.split(/\s+/).filter(Boolean), body: body.join('\n'), notInSandbox: reason });
  }
  if (reason !== undefined) throw new LessonFormatError(`${fileName}: <NotInSandbox> is never closed.`);
  return fences;
}
