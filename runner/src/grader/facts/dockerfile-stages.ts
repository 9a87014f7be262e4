import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import type { StageRunFacts } from '../types.js';

/** What a stage starts with when no SHELL says otherwise (and what the legacy builder and BuildKit both use). */
const defaultShell = ['/bin/sh', '-c'];

interface Stage {
  /** Its name after AS, lower-cased as BuildKit compares them, or its index. */
  names: string[];
  /** The earlier stage its FROM names, when it names one. */
  parent?: number;
  instructions: Instruction[];
}

/**
 * The RUN steps of the build stages whose results the final stage takes (COPY --from, ADD
 * --from, RUN --mount=…,from=), and of the stages those build on: the image's own history
 * never records them, since only the final stage's chain of FROMs ends up in the image.
 * Each is written as BuildKit writes a RUN in a history row (`RUN /bin/bash -o pipefail -c
 * make | tee log`, `RUN sh -c a | b` for the exec form, the script for a heredoc), with the
 * SHELL in force for it. Stages the final one takes nothing from are not built, so they are
 * left out.
 */
export function copiedStageRunsOf(text: string): StageRunFacts[] {
  const dockerfile = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    if (keyword === 'FROM') {
      const words = (instruction.getArgumentsContent() ?? '').trim().split(/\s+/);
      const image = words.find((word) => !word.startsWith('--'))?.toLowerCase() ?? '';
      const alias = /\sAS\s+(\S+)\s*$/i.exec(instruction.getArgumentsContent() ?? '')?.[1]?.toLowerCase();
      const parent = stageNamed(stages, image);
      stages.push({ names: [String(stages.length), ...(alias ? [alias] : [])], ...(parent !== undefined ? { parent } : {}), instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push(instruction);
  }
  if (!stages.length) return [];

  const inImage = new Set<number>();
  for (let index: number | undefined = stages.length - 1; index !== undefined; index = stages[index]!.parent) inImage.add(index);
  const copied = new Set<number>();
  const visit = (index: number) => {
    for (let stage: number | undefined = index; stage !== undefined && !inImage.has(stage) && !copied.has(stage); stage = stages[stage]!.parent) {
      copied.add(stage);
      for (const source of sourcesOf(stages, stage)) visit(source);
    }
  };
  for (const index of inImage) for (const source of sourcesOf(stages, index)) visit(source);

  const runs: StageRunFacts[] = [];
  for (const index of [...copied].sort((a, b) => a - b)) {
    let shell = shellAtStart(stages, index);
    for (const instruction of stages[index]!.instructions) {
      const keyword = instruction.getKeyword().toUpperCase();
      const content = (instruction.getArgumentsContent() ?? '').trim();
      const exec = execForm(content);
      if (keyword === 'SHELL' && exec) shell = exec;
      if (keyword !== 'RUN') continue;
      const script = heredocScript(content, lines, instruction);
      runs.push({
        stage: stages[index]!.names.at(-1)!,
        line: instruction.getRange().start.line + 1,
        createdBy: exec ? `RUN ${exec.join(' ')}` : `RUN ${shell.join(' ')} ${script ?? content}`,
      });
    }
  }
  return runs;
}

function stageNamed(stages: readonly Stage[], name: string): number | undefined {
  const index = stages.findLastIndex((stage) => stage.names.includes(name));
  return index === -1 ? undefined : index;
}

/** The stages a stage takes files from: `--from=` of COPY and ADD, `from=` of a RUN's mounts. */
function sourcesOf(stages: readonly Stage[], index: number): number[] {
  const sources: number[] = [];
  for (const instruction of stages[index]!.instructions) {
    const flags = 'getFlags' in instruction && typeof instruction.getFlags === 'function' ? (instruction.getFlags() as Array<{ getName(): string; getValue(): string | null }>) : [];
    for (const flag of flags) {
      const name = flag.getName().toLowerCase();
      const value = flag.getValue() ?? '';
      const from = name === 'from' ? value : name === 'mount' ? /(?:^|,)from=([^,]+)/.exec(value)?.[1] : undefined;
      if (from === undefined) continue;
      // Only earlier stages can be named (BuildKit refuses a later one); anything else is an image.
      const source = stageNamed(stages.slice(0, index), from.toLowerCase());
      if (source !== undefined) sources.push(source);
    }
  }
  return sources;
}

/** The SHELL a stage starts with: its parent stage's last one, or the default. */
function shellAtStart(stages: readonly Stage[], index: number): string[] {
  const parent = stages[index]!.parent;
  if (parent === undefined) return defaultShell;
  let shell = shellAtStart(stages, parent);
  for (const instruction of stages[parent]!.instructions) {
    const exec = instruction.getKeyword().toUpperCase() === 'SHELL' ? execForm((instruction.getArgumentsContent() ?? '').trim()) : undefined;
    if (exec) shell = exec;
  }
  return shell;
}

/** The words of a JSON array of strings, as BuildKit reads an exec form; undefined for a shell form. */
function execForm(content: string): string[] | undefined {
  if (!content.startsWith('[')) return undefined;
  try {
    const words: unknown = JSON.parse(content);
    return Array.isArray(words) && words.every((word) => typeof word === 'string') ? words : undefined;
  } catch {
    return undefined;
  }
}

/** The script of `RUN <<EOF … EOF`, the whole command being the heredoc, as BuildKit runs it. */
function heredocScript(content: string, lines: readonly string[], instruction: Instruction): string | undefined {
  if (!/^<<-?["']?\w+["']?\s*$/.test(content.split('\n')[0]!)) return undefined;
  const heredoc = 'getHeredocs' in instruction ? (instruction as unknown as { getHeredocs(): Array<{ getContentRange(): { start: { line: number }; end: { line: number } } | null }> }).getHeredocs()[0] : undefined;
  const range = heredoc?.getContentRange();
  if (!range) return undefined;
  return lines.slice(range.start.line, range.end.line + 1).join('\n');
}
