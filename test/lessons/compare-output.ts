/**
 * Compares an output a lesson shows with what the sandbox printed. Pure.
 *
 * What may differ, and how it is matched:
 * - Times and dates ("5 minutes ago", "DONE 0.1s", 2026-11-30T11:38:26Z) are replaced by
 *   placeholders on both sides.
 * - IDs and digests (runs of 12 to 64 hex digits) differ from machine to machine, but the
 *   lesson's claims about them must hold: an ID the lesson shows twice must be one ID in the
 *   sandbox too, and two different IDs must stay different. `IdBindings` carries that across
 *   every output of one lesson.
 * - Runs of spaces count as one: table columns widen with their content.
 * - Sizes are exact, unless the output is marked `approx` (then a megabyte or more may differ
 *   by 10 %).
 */

export class IdBindings {
  readonly #shownToReal = new Map<string, string>();
  readonly #realToShown = new Map<string, string>();

  /** Whether shown ↔ real can be bound without breaking an earlier binding. */
  canBind(shown: string, real: string, pending: Map<string, string>): boolean {
    const key = idKey(shown);
    const value = idKey(real);
    const bound = this.#shownToReal.get(key) ?? pending.get(key);
    if (bound !== undefined) return bound === value;
    const back = this.#realToShown.get(value) ?? [...pending].find(([, pendingReal]) => pendingReal === value)?.[0];
    return back === undefined || back === key;
  }

  commit(pending: Map<string, string>): void {
    for (const [shown, real] of pending) {
      this.#shownToReal.set(shown, real);
      this.#realToShown.set(real, shown);
    }
  }
}

/** IDs are shown in full or cut to 12 digits; both name the same thing. */
function idKey(id: string): string {
  return id.slice(0, 12);
}

export interface OutputExpectation {
  text: string;
  isTrimmed: boolean;
  hasApproxSizes: boolean;
  /** Lines may come in any order (docker diff, listings of images made in the same second). */
  isUnordered?: boolean;
  /** Every size may differ by a quarter: transfer sizes that include protocol overhead. */
  hasLooseSizes?: boolean;
  /** The block's IDs are names picked at random (overlay2 folders): any ID matches, none is bound. */
  hasAnyIds?: boolean;
}

export type Comparison = { matches: true } | { matches: false; reason: string };

const timePatterns: Array<[RegExp, string]> = [
  // BuildKit names the context it checksums by a session UUID and a random id.
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:::[a-z0-9]+)?/g, '<ref>'],
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?/g, '<date>'],
  [/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4}(?: [A-Z]+)?/g, '<date>'],
  [/\b\d{4}-\d\d-\d\d \d\d:\d\d\b/g, '<date>'],
  [/\b(?:\d+|an?|About an?|Less than an?) (?:second|minute|hour|day|week|month|year)s? ago\b/g, '<ago>'],
  [/\bUp (?:\d+|About an?|Less than an?) (?:second|minute|hour|day|week)s?\b/g, 'Up <for>'],
  // BuildKit numbers the steps of its plain log in the order they start, which changes from
  // run to run, and stamps a step's output with the seconds since it started.
  [/^#\d+ /, '#N '],
  [/^#N \d+\.\d+ /, '#N <t> '],
  // Ports the engine picks for -P or -p without a host port come from the ephemeral range.
  [/(0\.0\.0\.0|\[::\]|localhost|127\.0\.0\.1):(?:3[2-9]\d{3}|[45]\d{4}|60\d{3})\b/g, '$1:<port>'],
  // BuildKit prints "76B done" or "76B 0.0s done" for the same transfer, as the timing falls.
  [/ \d+\.\d+s done\b/g, ' done'],
  [/\b\d+m\d+(?:\.\d+)?s\b/g, '<s>'],
  // date's own format ("Mon Nov 30 12:04:46 UTC 2026"); HTTP dates; ls -l dates; overlay2's
  // short link names (random); load addresses (ASLR).
  [/\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d [A-Z]{3,4} \d{4}\b/g, '<date>'],
  [/\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT\b/g, '<date>'],
  [/\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d (?:\d\d:\d\d|\d{4})\b/g, '<date>'],
  [/\b[A-Z0-9]{26}\b/g, '<link>'],
  [/\(0x[0-9a-f]{8,16}\)/g, '(0x<address>)'],
  // The grader's own timings: "after 48 ms", "(0.7 s)".
  [/\b\d+(?:\.\d+)? ?ms\b/g, '<ms>'],
  [/\b\d+\.\d+ s\b/g, '<s>'],
  [/\b\d+(?:\.\d+)?s\b/g, '<s>'],
];

export function normaliseLine(line: string): string {
  let text = line;
  for (const [pattern, replacement] of timePatterns) text = text.replace(pattern, replacement);
  return text.replace(/\s+/g, ' ').trim();
}

const hexToken = /\b[0-9a-f]{12,64}\b/;
// Docker's sizes (78MB, 2.03 MB), and du -h's and ls -h's (40K, 1.7M, 2.3G).
const sizeToken = /\b\d+(?:\.\d+)?\s?(?:B|kB|KB|KiB|MB|MiB|GB|GiB|K|M|G)\b/;
const bareNumber = /\b\d{4,}\b/;

interface LinePattern {
  regex: RegExp;
  /** For each capture group, what it holds. */
  holes: Array<{ kind: 'id'; shown: string } | { kind: 'size'; shown: string } | { kind: 'number'; shown: string }>;
}

function patternOf(shownLine: string, hasApproxSizes: boolean, hasLooseSizes: boolean): LinePattern {
  const holes: LinePattern['holes'] = [];
  const numbers = hasLooseSizes ? [/\b\d{3,}\b/.source] : hasApproxSizes ? [bareNumber.source] : [];
  const tokens = new RegExp(
    [hexToken.source, sizeToken.source, ...numbers].map((source) => `(${source})`).join('|'),
    'g',
  );
  let source = '';
  let last = 0;
  for (const match of shownLine.matchAll(tokens)) {
    source += escapeRegex(shownLine.slice(last, match.index));
    const [token] = match;
    if (match[1] !== undefined) {
      holes.push({ kind: 'id', shown: token });
      source += `([0-9a-f]{${token.length}})`;
    } else if (match[2] !== undefined) {
      holes.push({ kind: 'size', shown: token });
      source += hasApproxSizes || hasLooseSizes ? `(${sizeToken.source})` : `(${escapeRegex(token)})`;
    } else {
      holes.push({ kind: 'number', shown: token });
      source += `(\\d+)`;
    }
    last = match.index + token.length;
  }
  const rest = shownLine.slice(last);
  // A line the lesson cuts short ends with "…": the real line only has to start the same way.
  if (rest.endsWith('…') && shownLine !== '…') return { regex: new RegExp(`^${source}${escapeRegex(rest.slice(0, -1))}`), holes };
  source += escapeRegex(rest);
  return { regex: new RegExp(`^${source}$`), holes };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Does one real line match one shown line? Returns the ID bindings it needs, or undefined. */
function matchLine(shown: string, real: string, options: OutputExpectation, ids: IdBindings, pending: Map<string, string>): Map<string, string> | undefined {
  const pattern = patternOf(shown, options.hasApproxSizes, Boolean(options.hasLooseSizes));
  const match = pattern.regex.exec(real);
  if (!match) return undefined;
  const needed = new Map<string, string>();
  for (const [index, hole] of pattern.holes.entries()) {
    const realToken = match[index + 1]!;
    if (hole.kind === 'id') {
      if (options.hasAnyIds) continue;
      const both = new Map([...pending, ...needed]);
      if (!ids.canBind(hole.shown, realToken, both)) return undefined;
      needed.set(idKey(hole.shown), idKey(realToken));
    } else if (hole.kind === 'size') {
      const [shownBytes, realBytes] = [bytesOf(hole.shown), bytesOf(realToken)];
      if (options.hasLooseSizes ? Math.abs(realBytes - shownBytes) > 0.25 * shownBytes : !isCloseEnough(shownBytes, realBytes)) return undefined;
    } else {
      const [shownNumber, realNumber] = [Number(hole.shown), Number(realToken)];
      if (options.hasLooseSizes ? Math.abs(realNumber - shownNumber) > 0.25 * shownNumber : !isCloseEnough(shownNumber, realNumber)) return undefined;
    }
  }
  return needed;
}

/**
 * `approx` is for what follows Debian's packages (base images, toolchains): a megabyte or
 * more, within 10 %. Smaller sizes are what the lesson itself made, and stay exact.
 */
function isCloseEnough(shown: number, real: number): boolean {
  if (shown === real) return true;
  if (shown < 1e6) return false;
  return Math.abs(real - shown) <= 0.1 * shown;
}

const unitBytes: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

export function bytesOf(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s?(\w+)$/.exec(size);
  if (!match) return Number.NaN;
  return Number(match[1]) * (unitBytes[match[2]!] ?? Number.NaN);
}

function linesOf(text: string): string[] {
  // BuildKit's plain log may print a progress line and then the same line again, further on
  // ("#1 transferring dockerfile: 29B 0.1s" then "#1 transferring dockerfile: 76B done"):
  // a reader takes the last one.
  const lines = text
    .split('\n')
    .map(normaliseLine)
    .filter((line, index, all) => !isSupersededProgress(line, all[index + 1]));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  while (lines.length && lines[0] === '') lines.shift();
  return lines;
}

function isSupersededProgress(line: string, next: string | undefined): boolean {
  const progress = /^(#(?:\d+|N) [^:]+:)/.exec(line);
  return progress !== null && next !== undefined && next.startsWith(progress[1]!);
}

/** A shown line that is only an ellipsis stands for any number of real lines. */
const gap = '…';

/**
 * Matches shown lines against real ones. Without `trimmed`, lines run together except where
 * a `…` line stands; with it, every shown line may be followed by unshown ones.
 */
export function compareOutput(expected: OutputExpectation, realText: string, ids: IdBindings): Comparison {
  const shown = linesOf(expected.text);
  const real = linesOf(stripTerminalNoise(realText));
  if (expected.isUnordered) return compareUnordered(expected, shown, real, ids, new Map());
  // Depth-first, so a shown line after a gap that matches too early can try a later real line.
  let deepest = { index: 0, position: 0, mayFloat: false };
  // Where the rest cannot match (whatever IDs were bound on the way): keeps the search linear-ish.
  const dead = new Set<string>();
  const search = (index: number, position: number, mayFloat: boolean, pending: Map<string, string>): Map<string, string> | undefined => {
    const key = `${index}:${position}:${mayFloat}`;
    if (dead.has(key)) return undefined;
    const result = searchFrom(index, position, mayFloat, pending);
    if (!result) dead.add(key);
    return result;
  };
  const searchFrom = (index: number, position: number, mayFloat: boolean, pending: Map<string, string>): Map<string, string> | undefined => {
    if (index > deepest.index || (index === deepest.index && position > deepest.position)) deepest = { index, position, mayFloat };
    if (index === shown.length) {
      const endsOpen = expected.isTrimmed || shown[shown.length - 1] === gap;
      return endsOpen || position === real.length ? pending : undefined;
    }
    const line = shown[index]!;
    if (line === gap) return search(index + 1, position, true, pending);
    const last = mayFloat ? real.length - 1 : position;
    for (let candidate = position; candidate <= last && candidate < real.length; candidate++) {
      const bindings = matchLine(line, real[candidate]!, expected, ids, pending);
      if (!bindings) continue;
      const found = search(index + 1, candidate + 1, expected.isTrimmed, new Map([...pending, ...bindings]));
      if (found) return found;
    }
    return undefined;
  };
  const bound = search(0, 0, expected.isTrimmed, new Map());
  if (bound) {
    ids.commit(bound);
    return { matches: true };
  }
  if (deepest.index === shown.length) {
    return { matches: false, reason: `the output has more lines than the lesson shows, from:\n    real:  ${real[deepest.position]}\n  (mark the block "trimmed", or end it with a "…" line, if that is on purpose)` };
  }
  return {
    matches: false,
    reason: `shown line ${deepest.index + 1} is not in the output${deepest.mayFloat ? ' (in order)' : ''}:\n    shown: ${shown[deepest.index]}\n    real:  ${real[deepest.position] ?? '(no more lines)'}`,
  };
}

function compareUnordered(expected: OutputExpectation, shown: string[], real: string[], ids: IdBindings, pending: Map<string, string>): Comparison {
  const unused = new Set(real.keys());
  const lines = shown.filter((line) => line !== gap);
  for (const [index, line] of lines.entries()) {
    const candidate = [...unused].find((realIndex) => {
      const bindings = matchLine(line, real[realIndex]!, expected, ids, pending);
      if (bindings) for (const [key, value] of bindings) pending.set(key, value);
      return bindings !== undefined;
    });
    if (candidate === undefined) return { matches: false, reason: `shown line ${index + 1} is not in the output (in any order):\n    shown: ${line}` };
    unused.delete(candidate);
  }
  const mayHaveMore = expected.isTrimmed || lines.length < shown.length;
  if (!mayHaveMore && unused.size) {
    return { matches: false, reason: `the output has lines the lesson does not show:\n    real:  ${real[Math.min(...unused)]}` };
  }
  ids.commit(pending);
  return { matches: true };
}

/** Colour codes and carriage-return redraws are not part of what a reader sees in a listing. */
function stripTerminalNoise(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .split('\n')
    .map((line) => line.split('\r').filter((part) => part.trim() !== '').pop() ?? '')
    .join('\n');
}
