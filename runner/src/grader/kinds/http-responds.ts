import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { formatDuration } from '../describe.js';
import type { CheckKind, FileFacts, HttpProbeResult, ImageFacts } from '../types.js';
import { diagnoseCommand, programPath, startedProgram } from './started-program.js';

const expectedAnswer = z
  .object({
    /** The path requested, e.g. /healthz. */
    path: z.string().startsWith('/'),
    /** The status code the service answers it with. */
    status: z.number().int().min(100).max(599).default(200),
    /** The whole body the service answers with, when it matters; trailing newlines and spaces do not. */
    body: z.string().max(200).optional(),
  })
  .strict();

const params = z
  .object({
    /** The container port the service listens on. */
    port: z.number().int().min(1).max(65535),
    /**
     * What the service answers, asked in order: the first until the container answers at all
     * (within `withinMs`), then each of the rest once. Answers that only this service gives
     * tell it apart from any other program that speaks HTTP on the port.
     */
    requests: z.array(expectedAnswer).min(1),
    /** How long after start the container may take to answer. */
    withinMs: z.number().int().positive().max(60_000),
    /**
     * The Go main packages the service is built from, as its build info names them
     * (`go build .` names the module's package, `go build main.go` "command-line-arguments").
     * When given, the program a container runs must be such a Go program: files served by
     * another web server can answer the same paths with the same bodies.
     */
    builtFrom: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const shownCharacters = 80;
const shown = (text: string) => JSON.stringify(text.length > shownCharacters ? `${text.slice(0, shownCharacters)}…` : text);
const withoutTrailingSpace = (text: string) => text.replace(/\s+$/, '');

/**
 * A container from the image is the service: it answers HTTP on `port` within `withinMs`,
 * and each request gets the status (and body) the service gives. The container is run
 * while facts are gathered (facts/http-probe.ts); this only judges what happened.
 */
export const httpResponds: CheckKind<typeof params> = {
  summary: 'A container from the image answers HTTP on a port as the service does',
  params,
  probes: ({ port, requests, withinMs }) => ({ http: { port, paths: requests.map((request) => request.path), withinMs } }),
  evaluate(facts, { port, requests, withinMs, builtFrom }) {
    const seconds = `${withinMs / 1000} s`;
    const expected = `on port ${port} within ${seconds}: ${requests.map(describeExpected).join(', ')}`;
    const probe = facts.probes.http;
    if (!probe) return { status: 'skip', expected, actual: 'not tried', message: 'The container was not started.' };
    switch (probe.outcome) {
      case 'answered': {
        const wrong: string[] = [];
        const actual = requests.map((wanted) => {
          const answer = probe.answers.find((candidate) => candidate.path === wanted.path);
          if (!answer) {
            wrong.push(`GET ${wanted.path} was not asked.`);
            return `GET ${wanted.path}: not asked`;
          }
          if ('error' in answer) {
            wrong.push(`GET ${wanted.path} got no answer (${answer.error}).`);
            return `GET ${wanted.path}: no answer`;
          }
          const body = withoutTrailingSpace(answer.bodyStart);
          if (answer.statusCode !== wanted.status) {
            wrong.push(`GET ${wanted.path} answered ${answer.statusCode}${body ? ` ${shown(body)}` : ''}, not ${wanted.status}.`);
          } else if (wanted.body !== undefined && body !== withoutTrailingSpace(wanted.body)) {
            wrong.push(`GET ${wanted.path} answered ${answer.statusCode} with ${shown(body)}, not ${shown(withoutTrailingSpace(wanted.body))}.`);
          }
          return `GET ${wanted.path}: ${answer.statusCode}${wanted.body !== undefined ? ` ${shown(body)}` : ''}`;
        });
        const after = `, first answer after ${formatDuration(probe.afterMs)}`;
        const notTheService = !wrong.length && builtFrom ? otherProgram(facts, builtFrom) : undefined;
        if (notTheService) {
          return {
            status: 'fail',
            expected: `${expected}, from the Go program built from ${builtFrom![0]}`,
            actual: `${actual.join(', ')}${after}; the program is ${notTheService.what}`,
            message: escapeLine(
              `Something answers on port ${port} as the service does, but the program the container runs, ${notTheService.name} (${notTheService.what}), is not the service: that is the Go program built from ${builtFrom!.join(' or ')}. Ship the program you built, and run it.`,
            ),
          };
        }
        if (!wrong.length) return { status: 'pass', expected, actual: `${actual.join(', ')}${after}` };
        return {
          status: 'fail',
          expected,
          actual: `${actual.join(', ')}${after}`,
          message: escapeLine(`Something answers HTTP on port ${port}, but not as the service does: ${wrong.join(' ')}`),
        };
      }
      case 'not-started':
        return {
          status: 'fail',
          expected,
          actual: 'the container did not start',
          message: withDiagnosis(facts, probe, escapeLine(`The engine could not start a container from the image: ${probe.reason}`)),
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
          message: `${escapeLine(`The container kept running, but nothing answered HTTP on port ${port} within ${seconds} (last try: ${probe.lastError}).`)}${logsText(probe.logTail)}`,
        };
    }
  },
};

function describeExpected(request: z.infer<typeof expectedAnswer>): string {
  return `GET ${request.path} → ${request.status}${request.body !== undefined ? ` ${shown(withoutTrailingSpace(request.body))}` : ''}`;
}

function logsText(logTail: string): string {
  return logTail ? `\nIts last output:\n${logTail.split('\n').map((line) => `  ${escapeLine(line)}`).join('\n')}` : ' It printed nothing.';
}

/** Adds what the image itself says about a program that cannot start; `message` has its untrusted parts escaped already. */
function withDiagnosis(facts: ImageFacts, probe: HttpProbeResult, message: string): string {
  const diagnosis = diagnoseCommand(facts);
  return diagnosis ? `${message}\n${escapeLine(diagnosis)}` : message;
}

/**
 * What the started program is, when it is not a Go program built from one of `builtFrom`;
 * undefined when it is. A script (an entrypoint script that ends in `exec /server`) is judged
 * by what runs once the container answered: the service must be among its processes. Where
 * the engine did not say, the script has the benefit of the doubt when the image holds such
 * a Go program.
 */
function otherProgram(facts: ImageFacts, builtFrom: readonly string[]): { name: string; what: string } | undefined {
  const isService = (file: FileFacts | undefined) => file?.identity?.kind === 'go-program' && builtFrom.includes(file.identity.mainPath);
  const program = startedProgram(facts);
  if (!program) return { name: 'nothing', what: 'the image has neither ENTRYPOINT nor CMD' };
  const file = program.path === undefined ? undefined : facts.files.get(program.path);
  if (isService(file)) return undefined;
  const identity = file?.identity;
  const processes = facts.probes.http?.outcome === 'answered' ? facts.probes.http.processes : undefined;
  if (identity?.kind === 'script' && processes) {
    const services = [...facts.files.values()].filter(isService);
    const isRunning = processes.some((line) => {
      const name = line.trim().split(/\s+/)[0] ?? '';
      const path = programPath(facts, name);
      // A relative name the script ran from a folder of its own (`cd /app && exec ./hello`): known by its file name.
      if (path === undefined) return services.some((service) => service.path.split('/').at(-1) === name.split('/').at(-1));
      return isService(facts.files.get(path));
    });
    if (isRunning) return undefined;
    const running = processes.map((line) => shown(line)).join(', ') || 'nothing';
    return { name: program.path ? `/${program.path}` : program.name, what: `a script for ${identity.interpreter}; once the container answered, what ran was ${running}, and none of it is a Go program built from ${builtFrom[0]}` };
  }
  if (identity?.kind === 'script' && [...facts.files.values()].some(isService)) return undefined;
  const what = !file
    ? 'not a file the image holds'
    : identity?.kind === 'go-program'
      ? `a Go program built from ${identity.mainPath}`
      : identity?.kind === 'busybox'
        ? 'busybox'
        : identity?.kind === 'script'
          ? `a script for ${identity.interpreter}, and no Go program built from ${builtFrom[0]} is in the image`
          : identity?.kind === 'build-tool'
            ? `the build tool ${identity.tool}`
            : identity?.kind === 'elf'
              ? 'a program not built with Go'
              : 'a file that is no program the check knows';
  return { name: program.path ? `/${program.path}` : program.name, what };
}
