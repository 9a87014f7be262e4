import { DockerfileParser, type From } from 'dockerfile-ast';
import type { Engine } from '../../engine.js';
import type { DockerfileBase, DockerfileFacts } from '../types.js';
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
    if (file) return { outcome: 'read', path: `${options.folder.path}/${name}`, finalBase: finalBaseOf(file.content.toString('utf8')) };
  }
  return { outcome: 'unreadable', reason: `${options.folder.path} has no Dockerfile` };
}

/**
 * The final stage's base, as BuildKit finds it: the last FROM, and while the image it names
 * is an earlier stage's name (case does not matter), that stage's FROM. Global build
 * arguments (ARG before the first FROM) are filled in with their defaults, as `docker build`
 * without --build-arg does.
 */
export function finalBaseOf(text: string): DockerfileBase {
  const froms = DockerfileParser.parse(text).getFROMs();
  const fromLines: string[] = [];
  let index = froms.length - 1;
  // Each step goes to an earlier stage, so this ends.
  while (index >= 0) {
    const from = froms[index]!;
    fromLines.push(`FROM ${[...from.getFlags().map((flag) => `--${flag.getName()}=${flag.getValue() ?? ''}`), ...from.getArguments().map((argument) => argument.getValue())].join(' ')}`);
    const reference = imageOf(from);
    const stage = froms.slice(0, index).findLastIndex((earlier) => earlier.getBuildStage()?.toLowerCase() === reference.toLowerCase());
    if (stage === -1) {
      const digest = digestPattern.exec(reference)?.[1];
      return { fromLines, reference, ...(digest ? { digest } : {}), ...(reference.includes('$') ? { hasUnsetArgument: true } : {}) };
    }
    index = stage;
  }
  return { fromLines, reference: '' };
}

function imageOf(from: From): string {
  return from.getExpandedArguments()[0]?.getValue() ?? '';
}
