import { DockerfileParser, type Arg } from 'dockerfile-ast';
import type { Engine } from '../../engine.js';
import type { DockerfileBase, DockerfileFacts } from '../types.js';
import { copiedStageRunsOf } from './dockerfile-stages.js';
import { readExerciseFolder, type RebuildProbeOptions } from './rebuild-probe.js';

/** `docker build .` reads `Dockerfile`, and `dockerfile` when there is none. */
const dockerfileNames = ['Dockerfile', 'dockerfile'];
const digestPattern = /@(sha256:[0-9a-f]{64})$/;

/**
 * The exercise folder's Dockerfile, read through the engine like the rebuild probe reads the
 * folder: an image does not record how its FROM line named its base (a tag that can move, or
 * a digest that cannot), so only the Dockerfile can tell.
 */
export async function readDockerfile(engine: Engine, options: RebuildProbeOptions): Promise<DockerfileFacts> {
  const read = await readExerciseFolder(engine, options);
  if ('reason' in read) return { outcome: 'unreadable', reason: read.reason };
  for (const name of dockerfileNames) {
    const file = read.files.find((candidate) => candidate.header.name === name && candidate.header.type === 'file');
    if (!file) continue;
    const text = file.content.toString('utf8');
    return { outcome: 'read', path: `${options.folder.path}/${name}`, finalBase: finalBaseOf(text), copiedStageRuns: copiedStageRunsOf(text), scripts: scriptsOf(read.files) };
  }
  return { outcome: 'unreadable', reason: `${options.folder.path} has no Dockerfile` };
}

/** Scripts are read up to this size, and this many of them: a RUN runs a build script, not a data set. */
const scriptMaxBytes = 64 * 1024;
const scriptsKept = 50;

/**
 * The folder's scripts a RUN may run (`./build.sh`): files named `*.sh` or starting with
 * `#!`, small ones only, as text. A pipe in one hides a failing make as well as one written
 * in the Dockerfile (kinds/pipe-failures-fail-the-build.ts).
 */
export function scriptsOf(files: ReadonlyArray<{ header: { name: string; type?: string | null }; content: Buffer }>): Array<{ path: string; text: string }> {
  const scripts: Array<{ path: string; text: string }> = [];
  for (const file of files) {
    if (file.header.type !== 'file' || file.content.length > scriptMaxBytes) continue;
    const isScript = file.header.name.endsWith('.sh') || (file.content[0] === 0x23 && file.content[1] === 0x21);
    if (!isScript) continue;
    scripts.push({ path: file.header.name.replace(/^\.\//, ''), text: file.content.toString('utf8').replace(/\r\n/g, '\n') });
    if (scripts.length === scriptsKept) break;
  }
  return scripts;
}

/**
 * The final stage's base, as BuildKit finds it: the last FROM, and while the image it names
 * is an earlier stage's name (case does not matter), that stage's FROM. Global build
 * arguments (ARG before the first FROM) are filled in with their defaults, as `docker build`
 * without --build-arg does.
 */
export function finalBaseOf(text: string): DockerfileBase {
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  const globals = globalArguments(dockerfile.getARGs(), froms[0]?.getRange().start.line ?? Infinity);
  const fromLines: string[] = [];
  let index = froms.length - 1;
  // Each step goes to an earlier stage, so this ends.
  while (index >= 0) {
    const from = froms[index]!;
    fromLines.push(`FROM ${[...from.getFlags().map((flag) => `--${flag.getName()}=${flag.getValue() ?? ''}`), ...from.getArguments().map((argument) => argument.getValue())].join(' ')}`);
    const image = expandWord(from.getArguments()[0]?.getValue() ?? '', globals);
    const reference = image.value;
    const stage = froms.slice(0, index).findLastIndex((earlier) => earlier.getBuildStage()?.toLowerCase() === reference.toLowerCase());
    if (stage === -1) {
      const digest = digestPattern.exec(reference)?.[1];
      return { fromLines, reference, ...(digest ? { digest } : {}), ...(image.hasUnset ? { hasUnsetArgument: true } : {}) };
    }
    index = stage;
  }
  return { fromLines, reference: '' };
}

/** The ARGs before the first FROM, each default expanded with the ones before it; undefined for one with no default. */
function globalArguments(args: readonly Arg[], firstFromLine: number): Map<string, string | undefined> {
  const globals = new Map<string, string | undefined>();
  for (const arg of args) {
    if (arg.getRange().start.line >= firstFromLine) break;
    const property = arg.getProperty();
    const name = property?.getName();
    if (!name) continue;
    const value = property?.getValue();
    globals.set(name, value === null || value === undefined ? undefined : expandWord(value, globals).value);
  }
  return globals;
}

/**
 * A word as BuildKit's shell lexer expands it in a FROM line: quotes removed, `\` escaping the
 * next character, `$NAME`, `${NAME}`, and `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
 * `${NAME+word}`. A variable that is unset (declared with no default, or not declared)
 * expands to nothing, which `hasUnset` tells.
 */
export function expandWord(word: string, variables: ReadonlyMap<string, string | undefined>): { value: string; hasUnset: boolean } {
  let value = '';
  let hasUnset = false;
  let quote: "'" | '"' | undefined;
  const lookUp = (name: string) => {
    const found = variables.get(name);
    if (found === undefined) hasUnset = true;
    return found;
  };
  for (let at = 0; at < word.length; at++) {
    const character = word[at]!;
    if (quote === "'") {
      if (character === "'") quote = undefined;
      else value += character;
      continue;
    }
    if (character === '\\' && at + 1 < word.length) {
      value += word[++at];
      continue;
    }
    if ((character === '"' || character === "'") && (quote === undefined || quote === character)) {
      quote = quote === undefined ? character : undefined;
      continue;
    }
    if (character !== '$') {
      value += character;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(at + 1))?.[0];
    if (name) {
      value += lookUp(name) ?? '';
      at += name.length;
      continue;
    }
    if (word[at + 1] !== '{') {
      value += character;
      continue;
    }
    const close = matchingBrace(word, at + 1);
    if (close === -1) {
      value += word.slice(at);
      break;
    }
    const inner = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(word.slice(at + 2, close));
    at = close;
    if (!inner) {
      hasUnset = true;
      continue;
    }
    const [, innerName, operator, alternative = ''] = inner;
    const found = variables.get(innerName!);
    const isSet = operator?.startsWith(':') ? found !== undefined && found !== '' : found !== undefined;
    if (operator === undefined) value += lookUp(innerName!) ?? '';
    else if (operator.endsWith('-')) {
      if (isSet) value += found;
      else {
        const expanded = expandWord(alternative, variables);
        value += expanded.value;
        hasUnset ||= expanded.hasUnset;
      }
    } else if (isSet) {
      const expanded = expandWord(alternative, variables);
      value += expanded.value;
      hasUnset ||= expanded.hasUnset;
    }
  }
  return { value, hasUnset };
}

/** The index of the "}" that closes the "{" at `open`, nested braces counted; -1 when none does. */
function matchingBrace(word: string, open: number): number {
  let depth = 0;
  for (let at = open; at < word.length; at++) {
    if (word[at] === '{') depth++;
    else if (word[at] === '}' && --depth === 0) return at;
  }
  return -1;
}
