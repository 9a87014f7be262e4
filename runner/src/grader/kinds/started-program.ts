import { resolvePath } from '../facts/merged-view.js';
import type { ImageFacts } from '../types.js';
import { withoutLaunchers } from './launchers.js';

/*
 * The program a container of the image starts, as the runtime finds it, and what keeps it
 * from starting: shared by the checks that run the image (http-responds, run-output).
 */

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

/** Docker's PATH when the image sets none. */
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The program a container of the image starts: the first word of ENTRYPOINT and CMD, or for
 * the shell form (`/bin/sh -c "hello"`) the first word of the command, after variable
 * assignments and `exec`; found as the runtime finds it, through the image's PATH or its
 * working folder, symlinks followed. `path` is undefined when the image has no such file.
 */
export function startedProgram(facts: ImageFacts): { name: string; path?: string } | undefined {
  const written = [...(facts.config.entrypoint ?? []), ...(facts.config.cmd ?? [])];
  const command = withoutLaunchers(written);
  // A launcher with nothing to launch (`CMD ["env"]`) is the program itself.
  let name = command[0] ?? written[0];
  if (!name) return undefined;
  if (/(?:^|\/)(?:ba|da|a)?sh$/.test(name) && command[1] === '-c' && command[2] !== undefined) {
    const words = command[2].trim().split(/\s+/);
    while (words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!) || words[0] === 'exec')) words.shift();
    const program = withoutLaunchers(words)[0];
    if (program) name = program;
  }
  const path = programPath(facts, name);
  return path === undefined ? { name } : { name, path };
}

/** Where the runtime finds a program named `name`: through the image's PATH, or its working folder for a relative path; symlinks followed. */
export function programPath(facts: ImageFacts, name: string): string | undefined {
  const searchPath = facts.config.env.find((entry) => entry.startsWith('PATH='))?.slice(5) ?? defaultPath;
  const candidates = name.includes('/')
    ? [name.startsWith('/') ? name : `${facts.config.workingDir || '/'}/${name}`]
    : searchPath.split(':').filter(Boolean).map((folder) => `${folder}/${name}`);
  for (const candidate of candidates) {
    const resolved = resolvePath(facts.files, candidate);
    if (resolved !== undefined && facts.files.get(resolved)?.type === 'file') return resolved;
  }
  return undefined;
}
