import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSize } from '../../runner/src/contract/size.js';
import { projectRoot } from '../../runner/src/project-root.js';

const contractDir = path.join(projectRoot, 'runner', 'src', 'contract');
const siteSourceDir = path.join(projectRoot, 'site', 'src');

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    specifiers.push((match[1] ?? match[2] ?? match[3])!);
  }
  return specifiers;
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && /\.(ts|astro|mjs)$/.test(entry.name)).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('the runner–page wire contract', () => {
  it('is imported by the site, which imports nothing else of the runner', async () => {
    const runnerImports: Array<{ file: string; target: string }> = [];
    for (const file of await filesUnder(siteSourceDir)) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier);
        if (target.startsWith(path.join(projectRoot, 'runner') + path.sep)) runnerImports.push({ file: path.relative(projectRoot, file), target: path.relative(projectRoot, target) });
      }
    }
    expect(runnerImports.length).toBeGreaterThan(0);
    expect(runnerImports.filter(({ target }) => !target.startsWith(path.join('runner', 'src', 'contract')))).toEqual([]);
  });

  it('holds types and constants only: it imports nothing outside itself', async () => {
    const files = await filesUnder(contractDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        expect(specifier, `${path.relative(projectRoot, file)} imports ${specifier}`).toMatch(/^\.\/[a-z-]+\.js$/);
      }
    }
  });

  it('formats sizes in decimal units, as docker image ls does', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1000)).toBe('1 kB');
    expect(formatSize(85_248)).toBe('85.2 kB');
    expect(formatSize(7_340_032)).toBe('7.3 MB');
    expect(formatSize(123_456_789)).toBe('123 MB');
    expect(formatSize(2_000_000_000)).toBe('2 GB');
  });
});
