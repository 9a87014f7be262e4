import { z } from 'zod';
import { formatDuration } from '../describe.js';
import { resolvePath } from '../facts/merged-view.js';
import type { CheckKind, HttpProbeResult, ImageFacts } from '../types.js';

const params = z
  .object({
    /** The container port the service listens on. */
    port: z.number().int().min(1).max(65535),
    /** The path requested. */
    path: z.string().startsWith('/').default('/'),
    /** How long after start the container may take to answer. */
    withinMs: z.number().int().positive().max(60_000),
  })
  .strict();

/**
 * A container from the image answers HTTP on `port` within `withinMs`. The container is
 * run while facts are gathered (facts/http-probe.ts); this only judges what happened.
 */
export const httpResponds: CheckKind<typeof params> = {
  summary: 'A container from the image answers HTTP on a port',
  params,
  probes: ({ port, path, withinMs }) => ({ http: { port, path, withinMs } }),
  evaluate(facts, { port, withinMs }) {
    const seconds = `${withinMs / 1000} s`;
    const expected = `an HTTP answer on port ${port} within ${seconds}`;
    const probe = facts.probes.http;
    if (!probe) return { status: 'skip', expected, actual: 'not tried', message: 'The container was not started.' };
    switch (probe.outcome) {
      case 'answered':
        return { status: 'pass', expected, actual: `HTTP ${probe.statusCode} after ${formatDuration(probe.afterMs)}` };
      case 'not-started':
        return {
          status: 'fail',
          expected,
          actual: 'the container did not start',
          message: withDiagnosis(facts, probe, `The engine could not start a container from the image: ${probe.reason}`),
        };
      case 'exited':
        return {
          status: 'fail',
          expected,
          actual: `the container exited with code ${probe.exitCode}`,
          message: withDiagnosis(
            facts,
            probe,
            `The container exited with code ${probe.exitCode} after ${formatDuration(probe.afterMs)}, before answering.${logsText(probe.logTail)}`,
          ),
        };
      case 'timed-out':
        return {
          status: 'fail',
          expected,
          actual: `no answer within ${seconds}`,
          message: `The container kept running, but nothing answered HTTP on port ${port} within ${seconds} (last try: ${probe.lastError}).${logsText(probe.logTail)}`,
        };
    }
  },
};

function logsText(logTail: string): string {
  return logTail ? `\nIts last output:\n${logTail.split('\n').map((line) => `  ${line}`).join('\n')}` : ' It printed nothing.';
}

/** Adds what the image itself says about a program that cannot start. */
function withDiagnosis(facts: ImageFacts, probe: HttpProbeResult, message: string): string {
  const diagnosis = diagnoseCommand(facts);
  return diagnosis ? `${message}\n${diagnosis}` : message;
}

/**
 * Looks at the program the container runs: missing from the image, or linked dynamically
 * against a loader the image lacks (a cgo build copied onto scratch: "exec /server: no such
 * file or directory", although /server is there).
 */
export function diagnoseCommand(facts: ImageFacts): string | undefined {
  const command = [...(facts.config.entrypoint ?? []), ...(facts.config.cmd ?? [])];
  const program = command[0];
  if (!program) return 'The image has neither ENTRYPOINT nor CMD, so a container has nothing to run.';
  if (!program.startsWith('/')) return undefined; // found through PATH or a shell: too many cases to judge here
  const resolved = resolvePath(facts.files, program);
  const file = resolved === undefined ? undefined : facts.files.get(resolved);
  if (!file) return `The image has no ${program}, the program its ${facts.config.entrypoint?.length ? 'ENTRYPOINT' : 'CMD'} names.`;
  if (file.type === 'directory') return `${program} is a directory, not a program.`;
  const identity = file.identity;
  const isBinary = identity?.kind === 'elf' || identity?.kind === 'go-program';
  if (isBinary && identity.interpreter && resolvePath(facts.files, identity.interpreter) === undefined) {
    return `${program} is linked dynamically: it needs the loader ${identity.interpreter}, which is not in the image.`;
  }
  if (identity?.kind === 'script' && resolvePath(facts.files, identity.interpreter.split(' ')[0] ?? '') === undefined) {
    return `${program} is a script for ${identity.interpreter}, which is not in the image.`;
  }
  return undefined;
}
