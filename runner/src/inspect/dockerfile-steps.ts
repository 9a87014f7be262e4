/**
 * What each step of a Dockerfile depends on, as BuildKit's cache key sees it (lesson 5, "How
 * the builder decides"): the instruction with the build arguments and environment it sees,
 * the parent step, the base image, and for COPY and ADD the content and mode of the files
 * they copy. Only what the cache explainer needs is parsed; the builder stays the judge of
 * whether a Dockerfile is valid.
 */

/** Instructions that become a build step ("[2/5] WORKDIR /src"); the others only change the config. */
const stepInstructions = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'WORKDIR']);

export interface DockerfileStage {
  /** How BuildKit labels its steps: the AS name, "stage-N", or "" for a lone unnamed stage. */
  labels: string[];
  name?: string;
  /** The FROM reference after build arguments are applied. */
  baseRef: string;
  steps: DockerfileStep[];
}

export interface DockerfileStep {
  /** 1 for FROM, as BuildKit numbers them. */
  number: number;
  line: number;
  instruction: string;
  /** As written, whitespace collapsed. */
  text: string;
  /** With build arguments and environment variables substituted. */
  expanded: string;
  /** For RUN: every build argument it runs with; for the others, those it names. */
  args: Record<string, string>;
  /** The same for environment variables (ENV). */
  env: Record<string, string>;
  /** COPY/ADD from the context: the source patterns, relative to the context. */
  contextSources?: string[];
  /** COPY --from=<stage or image>. */
  fromStage?: string;
}

interface LogicalLine {
  line: number;
  text: string;
}

function logicalLines(dockerfile: string): LogicalLine[] {
  const lines = dockerfile.replace(/\r\n/g, '\n').split('\n');
  const result: LogicalLine[] = [];
  let current: LogicalLine | undefined;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (!current && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (current && trimmed.startsWith('#')) return; // comments inside a continued instruction
    const continues = /\\\s*$/.test(raw);
    const part = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (current) current.text += ` ${part.trim()}`;
    else current = { line: index + 1, text: part.trim() };
    if (!continues) {
      result.push(current);
      current = undefined;
    }
  });
  if (current) result.push(current);
  return result;
}

/** `$NAME` and `${NAME}` (also `${NAME:-default}`), as the Dockerfile frontend expands them. */
export function expandVariables(text: string, values: Readonly<Record<string, string>>, used?: Set<string>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced: string | undefined, fallback: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    used?.add(name);
    return values[name] ?? fallback ?? '';
  });
}

function splitWords(text: string): string[] {
  if (text.trim().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // not JSON after all: read it as words
    }
  }
  return text.split(/\s+/).filter(Boolean);
}

function parseAssignments(text: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const unquote = (value: string) => value.replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1');
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    // Old form: ENV NAME value with spaces
    const [name, ...rest] = text.split(/\s+/);
    if (name) pairs.push([name, unquote(rest.join(' '))]);
    return pairs;
  }
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) pairs.push([match[1]!, unquote(match[2]!)]);
  return pairs;
}

/** Reads a Dockerfile into stages and steps, with the build arguments given on the command line. */
export function parseDockerfile(dockerfile: string, buildArgs: Readonly<Record<string, string>> = {}): DockerfileStage[] {
  const stages: DockerfileStage[] = [];
  const globalArgs: Record<string, string> = {};
  let stage: DockerfileStage | undefined;
  let args: Record<string, string> = {};
  let env: Record<string, string> = {};

  for (const { line, text } of logicalLines(dockerfile)) {
    const match = /^(\S+)\s*(.*)$/s.exec(text);
    if (!match) continue;
    const instruction = match[1]!.toUpperCase();
    const rest = match[2]!.replace(/\s+/g, ' ').trim();
    if (instruction === 'ARG') {
      for (const word of rest.split(' ')) {
        const [name, ...value] = word.split('=');
        if (!name) continue;
        const fallback = value.length ? value.join('=').replace(/^"(.*)"$/, '$1') : stage ? globalArgs[name] : undefined;
        const resolved = buildArgs[name] ?? fallback;
        if (resolved === undefined) continue;
        if (stage) args[name] = resolved;
        else globalArgs[name] = resolved;
      }
      continue;
    }
    if (instruction === 'FROM') {
      const words = rest.split(' ').filter((word) => !word.startsWith('--'));
      const baseRef = expandVariables(words[0] ?? '', globalArgs);
      const name = words[1]?.toUpperCase() === 'AS' ? words[2]?.toLowerCase() : undefined;
      stage = { labels: [], ...(name ? { name } : {}), baseRef, steps: [] };
      stages.push(stage);
      args = {};
      env = {};
      stage.steps.push({ number: 1, line, instruction, text: `FROM ${rest}`, expanded: `FROM ${baseRef}`, args: {}, env: {} });
      continue;
    }
    if (!stage) continue;
    if (instruction === 'ENV') {
      for (const [name, value] of parseAssignments(rest)) env[name] = expandVariables(value, { ...args, ...env });
      continue;
    }
    if (!stepInstructions.has(instruction)) continue;
    const visible = { ...args, ...env };
    const used = new Set<string>();
    const step: DockerfileStep = {
      number: stage.steps.length + 1,
      line,
      instruction,
      text: `${instruction} ${rest}`,
      expanded: `${instruction} ${instruction === 'RUN' ? rest : expandVariables(rest, visible, used)}`,
      args: instruction === 'RUN' ? { ...args } : pick(args, used, env),
      env: instruction === 'RUN' ? { ...env } : pick(env, used),
    };
    if (instruction === 'COPY' || instruction === 'ADD') {
      const words = splitWords(expandVariables(rest, visible));
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const operands = words.filter((word) => !word.startsWith('--'));
      if (from) step.fromStage = from.toLowerCase();
      else step.contextSources = operands.slice(0, -1).filter((source) => !/^https?:\/\//.test(source) && !source.startsWith('<<'));
    }
    stage.steps.push(step);
  }
  stages.forEach((found, index) => {
    found.labels = [...(found.name ? [found.name] : []), `stage-${index}`, ...(index === stages.length - 1 ? [''] : [])];
  });
  return stages;
}

/** The named values that come from `values` (and are not overridden by `over`). */
function pick(values: Readonly<Record<string, string>>, names: ReadonlySet<string>, over: Readonly<Record<string, string>> = {}): Record<string, string> {
  return Object.fromEntries([...names].filter((name) => name in values && !(name in over)).map((name) => [name, values[name]!]));
}
