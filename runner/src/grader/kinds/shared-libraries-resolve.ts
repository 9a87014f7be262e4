import path from 'node:path';
import { escapeLine } from '../report/untrusted.js';
import { z } from 'zod';
import { layerAt } from '../describe.js';
import { resolvePath } from '../facts/merged-view.js';
import { loaderCachePath } from '../facts/shared-libraries.js';
import type { CheckKind, FileFacts, ImageFacts, LoaderCacheFacts } from '../types.js';

const params = z
  .object({
    /** The program whose needs are checked, as an absolute path in the image. */
    executable: z.string().regex(/^\/[^*?]+$/, 'must be an absolute path such as /usr/local/bin/greet'),
  })
  .strict();

const cachePath = loaderCachePath;

/**
 * glibc's built-in search path on Debian for x86-64 (`LD_DEBUG=libs` prints it as the
 * "system search path"). The glibc-hwcaps subfolders it also tries are left out: nothing in
 * this course installs there.
 */
const systemDirectories = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'];

type Cache = LoaderCacheFacts;

interface Found {
  soname: string;
  path: string;
  via: string;
}

/**
 * The program's loader and every shared library it names (DT_NEEDED) can be found in the
 * image, searched for as glibc's loader does: DT_RPATH, LD_LIBRARY_PATH from the image's
 * environment, DT_RUNPATH, /etc/ld.so.cache, then the built-in folders. A statically linked
 * program needs neither. Only the program's own needs are followed, not those of its
 * libraries; a check that runs the program covers the rest. Judges facts gathered while the
 * layers were read: how the program is linked (facts/elf.ts, any size) and the loader cache.
 */
export const sharedLibrariesResolve: CheckKind<typeof params> = {
  summary: "The program's loader and shared libraries are where the loader looks",
  params,
  probes: () => ({ fileContents: [cachePath] }),
  evaluate(facts, { executable }) {
    const expected = `the loader and every library ${executable} needs, found as the loader searches`;
    const unreadableLayers = facts.layers.filter((layer) => layer.unreadable);
    const resolved = resolvePath(facts.files, executable);
    const program = resolved !== undefined ? facts.files.get(resolved) : undefined;
    if (!program || (program.type !== 'file' && program.type !== 'hardlink')) {
      const elsewhere = filesNamed(facts, path.posix.basename(executable)).filter((file) => file.type === 'file');
      const there = elsewhere.length ? ` The image has ${elsewhere.map((file) => `/${file.path}`).join(', ')}.` : '';
      const what = program?.type === 'directory' ? 'is a folder, not a program' : 'is not in the image';
      return { status: 'fail', expected, actual: `no ${executable}`, message: escapeLine(`${executable} ${what}.${there}`) };
    }
    const identity = program.identity;
    const linking = identity?.kind === 'elf' || identity?.kind === 'go-program' ? identity.linking : undefined;
    if (!linking) {
      const what = identity?.kind === 'script' ? `a script for ${identity.interpreter}` : identity?.kind === 'busybox' ? 'busybox' : 'not a compiled (ELF) program';
      return { status: 'fail', expected, actual: 'not a compiled program', message: escapeLine(`${executable} is ${what}, so it names no loader or libraries of its own.`) };
    }
    if (linking.kind === 'unknown') {
      return { status: 'skip', expected, actual: 'unknown', message: `Could not tell which libraries ${executable} needs: ${linking.why}.` };
    }
    const elf = {
      interpreter: identity?.kind === 'elf' || identity?.kind === 'go-program' ? identity.interpreter : undefined,
      needed: linking.kind === 'dynamic' ? linking.needed : [],
      rpath: linking.kind === 'dynamic' ? linking.rpath : [],
      runpath: linking.kind === 'dynamic' ? linking.runpath : [],
    };

    const problems: string[] = [];
    let loaderFound: string | undefined;
    if (elf.interpreter !== undefined) {
      if (isFileAt(facts, elf.interpreter)) loaderFound = elf.interpreter;
      else {
        problems.push(
          `${executable} is linked dynamically, and its loader ${elf.interpreter} is not in the image, so the kernel cannot start it: ` +
            `\`docker run\` says "exec ${executable}: no such file or directory" although the program is there.`,
        );
      }
    }

    const cache: Cache = facts.loaderCache ?? { state: 'unreadable', why: 'it was not read' };
    const origin = path.posix.dirname(`/${resolved}`);
    const expand = (directory: string) => directory.replace(/\$(\{ORIGIN\}|ORIGIN)/g, origin);
    const libraryPath = (facts.config.env.find((entry) => entry.startsWith('LD_LIBRARY_PATH='))?.slice('LD_LIBRARY_PATH='.length) ?? '')
      .split(/[:;]/)
      .filter(Boolean);
    // DT_RPATH counts only when there is no DT_RUNPATH (glibc's elf/dl-load.c, _dl_map_object).
    const searchOrder: Array<{ via: string; directories: string[] }> = [
      ...(elf.runpath.length ? [] : [{ via: 'DT_RPATH', directories: elf.rpath.map(expand) }]),
      { via: 'LD_LIBRARY_PATH', directories: libraryPath },
      { via: 'DT_RUNPATH', directories: elf.runpath.map(expand) },
    ];

    const found: Found[] = [];
    const missing: string[] = [];
    for (const soname of elf.needed) {
      const hit = findLibrary(facts, soname, searchOrder, cache);
      if (hit) found.push(hit);
      else missing.push(soname);
    }
    for (const soname of missing) problems.push(describeMissing(facts, executable, soname, elf.rpath, elf.runpath, libraryPath, cache));

    const foundText = [
      ...(loaderFound ? [`loader ${loaderFound}`] : []),
      ...found.map((hit) => `${hit.soname} → ${hit.path} (${hit.via})`),
    ].join(', ');
    if (!problems.length) {
      if (!elf.needed.length && !loaderFound) return { status: 'pass', expected, actual: 'linked statically: needs no loader or library' };
      return { status: 'pass', expected, actual: foundText };
    }
    const actual = [
      ...(elf.interpreter !== undefined && !loaderFound ? [`no loader ${elf.interpreter}`] : []),
      ...missing.map((soname) => `${soname} not found`),
    ].join(', ');
    const unsure = [
      ...unreadableLayers.map((layer) => `${layerAt(facts, layer.index)} could not be read: ${layer.unreadable}`),
      ...(cache.state === 'unreadable' && missing.length ? [`${cachePath} could not be read: ${cache.why}`] : []),
    ];
    if (unsure.length) {
      return { status: 'skip', expected, actual: 'unknown', message: [...problems, `This may be wrong, because ${unsure.join('; ')}.`].map(escapeLine).join('\n') };
    }
    // One line per problem; names from the image cannot break a line (report/untrusted.ts).
    return { status: 'fail', expected, actual, message: problems.map(escapeLine).join('\n') };
  },
};

function findLibrary(facts: ImageFacts, soname: string, searchOrder: ReadonlyArray<{ via: string; directories: string[] }>, cache: Cache): Found | undefined {
  const inFolders = (via: string, directories: readonly string[]): Found | undefined => {
    for (const directory of directories) {
      const candidate = path.posix.join(directory, soname);
      if (isFileAt(facts, candidate)) return { soname, path: candidate, via };
    }
    return undefined;
  };
  // A name with a slash is a path, used as it is.
  if (soname.includes('/')) return isFileAt(facts, soname) ? { soname, path: soname, via: 'named by path' } : undefined;
  for (const { via, directories } of searchOrder) {
    const hit = inFolders(via, directories);
    if (hit) return hit;
  }
  if (cache.state === 'read') {
    // A cache entry whose file is gone is passed over, as the loader does.
    const cached = (cache.libraries.get(soname) ?? []).find((candidate) => isFileAt(facts, candidate));
    if (cached) return { soname, path: cached, via: cachePath };
  }
  return inFolders('built-in search path', systemDirectories);
}

function describeMissing(
  facts: ImageFacts,
  executable: string,
  soname: string,
  rpath: readonly string[],
  runpath: readonly string[],
  libraryPath: readonly string[],
  cache: Cache,
): string {
  const looked: string[] = [];
  if (rpath.length && !runpath.length) looked.push(`its DT_RPATH (${rpath.join(':')})`);
  if (runpath.length) looked.push(`its DT_RUNPATH (${runpath.join(':')})`);
  looked.push(libraryPath.length ? `LD_LIBRARY_PATH (${libraryPath.join(':')})` : 'LD_LIBRARY_PATH (not set)');
  looked.push(cache.state === 'absent' ? `${cachePath} (there is none)` : cachePath);
  looked.push(systemDirectories.join(', '));
  const copies = filesNamed(facts, soname);
  const where = copies.length
    ? ` The image does have ${copies.map((file) => `/${file.path}`).join(', ')}, but not where the loader looks.`
    : ` No file named ${soname} is anywhere in the image.`;
  return `${executable} needs ${soname}, and the loader would not find it: it looks in ${looked.join(', then ')}.${where}`;
}

function isFileAt(facts: ImageFacts, filePath: string): boolean {
  const resolved = resolvePath(facts.files, filePath);
  const type = resolved !== undefined ? facts.files.get(resolved)?.type : undefined;
  return type === 'file' || type === 'hardlink';
}

/** Files and links of that name anywhere in the image, a few at most. */
function filesNamed(facts: ImageFacts, name: string): FileFacts[] {
  const named: FileFacts[] = [];
  for (const file of facts.files.values()) {
    if (path.posix.basename(file.path) === name && file.type !== 'directory') named.push(file);
    if (named.length === 4) break;
  }
  return named;
}
