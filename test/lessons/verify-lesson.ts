import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../../runner/src/engine.js';
import { silentProgress } from '../../runner/src/progress.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { bringUpSandbox, resetSandbox } from '../../runner/src/sandbox/sandbox.js';
import { runCourse } from '../support/run-course.js';
import { instanceFor, testSandboxEnv } from '../support/sandbox-env.js';
import { compareOutput, IdBindings } from './compare-output.js';
import { parseLesson, type LessonStep, type ShellStep } from './lesson-blocks.js';
import { SandboxShell, type BlockResult } from './sandbox-shell.js';

export const lessonsDir = path.join(projectRoot, 'lessons');

export type StepStatus = 'matched' | 'ran' | 'skipped' | 'mismatch' | 'failed';

export interface StepReport {
  line: number;
  command: string;
  status: StepStatus;
  seconds: number;
  /** Why a step failed, or why it was not run. */
  detail?: string;
  /** What the sandbox printed (kept for --dump and for failures). */
  output?: string;
}

export interface LessonReport {
  lesson: string;
  steps: StepReport[];
  /** Starting the fresh sandbox and loading its base images. */
  setupSeconds: number;
  seconds: number;
}

export function isFailure(step: StepReport): boolean {
  return step.status === 'mismatch' || step.status === 'failed';
}

export interface VerifyOptions {
  engine: Engine;
  /** Labels what is created (`layerlab.test=<run id>`), so test cleanup finds leftovers. */
  runId: string;
  /** Called as each step finishes, for a live log. */
  onStep?: (step: StepReport) => void;
  /** Leave the sandbox running afterwards, to look around in it. */
  keepSandbox?: boolean;
}

/**
 * Replays one lesson in a sandbox of its own, started fresh as a learner's first one is
 * (base images loaded, exercise starters in ~/exercises), and removed afterwards.
 */
export async function verifyLesson(lesson: string, options: VerifyOptions): Promise<LessonReport> {
  const file = path.join(lessonsDir, `${lesson}.mdx`);
  const steps = parseLesson(await readFile(file, 'utf8'), `lessons/${lesson}.mdx`);
  const started = performance.now();
  const sandboxEnv = testSandboxEnv(options.runId, `verify-${lesson}`);
  const instance = instanceFor(sandboxEnv);
  const reports: StepReport[] = [];
  let setupSeconds = 0;
  try {
    await bringUpSandbox(options.engine, instance, silentProgress);
    setupSeconds = (performance.now() - started) / 1000;
    const shell = await SandboxShell.open(options.engine, instance);
    try {
      const ids = new IdBindings();
      let isBroken = false;
      for (const step of steps) {
        const report = isBroken ? notReached(step) : await runStep(step, shell, sandboxEnv, ids);
        if (report.detail?.startsWith('timed out')) isBroken = true;
        reports.push(report);
        options.onStep?.(report);
      }
    } finally {
      shell.close();
    }
  } finally {
    if (!options.keepSandbox) {
      await resetSandbox(options.engine, instance, silentProgress);
      await rm(sandboxEnv.LAYERLAB_DATA_DIR!, { recursive: true, force: true });
    }
  }
  return { lesson, steps: reports, setupSeconds, seconds: (performance.now() - started) / 1000 };
}

function notReached(step: LessonStep): StepReport {
  return { line: step.line, command: step.command, status: 'failed', seconds: 0, detail: 'not run: an earlier block timed out' };
}

async function runStep(step: LessonStep, shell: SandboxShell, sandboxEnv: Record<string, string>, ids: IdBindings): Promise<StepReport> {
  if (step.kind === 'skipped') return { line: step.line, command: step.command, status: 'skipped', seconds: 0, detail: step.reason };
  const result = step.runsOnHost ? await runOnHost(step, sandboxEnv) : await shell.run(step.command, step.timeoutSeconds);
  const base = { line: step.line, command: step.command, seconds: result.seconds, output: result.output };
  if (result.hasTimedOut) return { ...base, status: 'failed', detail: `timed out after ${step.timeoutSeconds} s (raise it with timeout=N on the fence)` };
  if (!step.output) {
    if (result.exitCode !== 0 && !step.mayFail) {
      return { ...base, status: 'failed', detail: `exited ${result.exitCode} (mark the fence "fails" if the lesson means it to)` };
    }
    return { ...base, status: 'ran' };
  }
  const comparison = compareOutput(step.output, result.output, ids);
  if (!comparison.matches) return { ...base, status: 'mismatch', detail: `output block at line ${step.output.line}: ${comparison.reason}` };
  return { ...base, status: 'matched' };
}

/** `course …` runs on the learner's machine, against this lesson's sandbox. */
async function runOnHost(step: ShellStep, sandboxEnv: Record<string, string>): Promise<BlockResult> {
  const words = step.command.trim().split(/\s+/);
  if (!words.every((word) => /^[\w.:=/-]+$/.test(word))) {
    return { output: `lessons:verify runs \`course\` blocks only as plain words, no shell syntax: ${step.command}`, exitCode: 2, seconds: 0, hasTimedOut: false };
  }
  const started = performance.now();
  const result = await runCourse(words.slice(1), sandboxEnv);
  return { output: result.stdout + result.stderr, exitCode: result.exitCode, seconds: (performance.now() - started) / 1000, hasTimedOut: false };
}
