import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../../runner/src/project-root.js';
import type { BenchResult, BenchSuite } from './types.js';

/** Where `npm run test:mutation` (stryker.config.mjs) writes its JSON report. */
const reportFile = path.join(projectRoot, 'reports', 'mutation', 'mutation.json');
const scoredFolders = [
  { name: 'mutation-score-kinds', folder: 'runner/src/grader/kinds' },
  { name: 'mutation-score-facts', folder: 'runner/src/grader/facts' },
];
/** What decides which mutants the tests kill, besides the mutated code itself. */
const testInputs = ['test/unit/grader', 'vitest.mutation.config.ts', 'stryker.config.mjs'];

interface MutantReport {
  files: Record<string, { source: string; mutants: Array<{ status: string }> }>;
  testFiles?: Record<string, { source?: string }>;
}

/**
 * mutation-score-kinds and mutation-score-facts: the share of mutants of the grader's check
 * kinds and facts that the unit tests kill, as Stryker scores it ((killed + timed out) over
 * every mutant but those that do not compile). Read from the last `npm run test:mutation`
 * (it takes minutes), and refused when that report is missing, does not cover every file,
 * or is older than the code or the tests it judged.
 */
export const mutationBench: BenchSuite = {
  name: 'mutation',
  async run({ log }) {
    const report = await readReport();
    await refuseIfStale(report);
    const results: BenchResult[] = [];
    for (const { name, folder } of scoredFolders) {
      const counts = { detected: 0, undetected: 0 };
      for (const [file, result] of Object.entries(report.files)) {
        if (!relative(file).startsWith(`${folder}/`)) continue;
        for (const mutant of result.mutants) {
          if (mutant.status === 'Killed' || mutant.status === 'Timeout') counts.detected++;
          else if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') counts.undetected++;
          else if (mutant.status !== 'CompileError' && mutant.status !== 'RuntimeError') {
            throw new Error(`${reportFile} has a mutant in ${file} that was not run (${mutant.status}): run \`npm run test:mutation\` again.`);
          }
        }
      }
      const total = counts.detected + counts.undetected;
      if (total === 0) throw new Error(`${reportFile} has no mutants of ${folder}: run \`npm run test:mutation\`.`);
      const score = Math.round((counts.detected / total) * 1000) / 10;
      log(`${folder}: ${counts.detected} of ${total} mutants killed (${score}%)`);
      results.push({ name, value: score, unit: '%' });
    }
    return results;
  },
};

async function readReport(): Promise<MutantReport> {
  let text: string;
  try {
    text = await readFile(reportFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`There is no mutation report (${path.relative(projectRoot, reportFile)}): run \`npm run test:mutation\` first.`);
    throw error;
  }
  return JSON.parse(text) as MutantReport;
}

/** The report must have judged today's code, all of it, with today's tests. */
async function refuseIfStale(report: MutantReport): Promise<void> {
  const reported = new Map(Object.entries(report.files).map(([file, result]) => [relative(file), result.source]));
  const problems: string[] = [];
  for (const { folder } of scoredFolders) {
    for (const file of await sourceFiles(folder)) {
      const source = await readFile(path.join(projectRoot, file), 'utf8');
      if (!reported.has(file)) problems.push(`${file} is not in it`);
      else if (reported.get(file) !== source) problems.push(`${file} changed since`);
    }
  }
  for (const [file, result] of Object.entries(report.testFiles ?? {})) {
    if (result.source === undefined) continue;
    const current = await readFile(path.join(projectRoot, relative(file)), 'utf8').catch(() => undefined);
    if (current !== result.source) problems.push(`${relative(file)} changed since`);
  }
  const reportTime = (await stat(reportFile)).mtimeMs;
  for (const input of testInputs) {
    for (const file of await filesUnder(input)) {
      if ((await stat(path.join(projectRoot, file))).mtimeMs > reportTime) problems.push(`${file} is newer than the report`);
    }
  }
  if (problems.length) {
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
    throw new Error(`The mutation report is stale (${shown}): run \`npm run test:mutation\` again.`);
  }
}

function relative(file: string): string {
  return (path.isAbsolute(file) ? path.relative(projectRoot, file) : file).split(path.sep).join('/');
}

async function sourceFiles(folder: string): Promise<string[]> {
  return (await filesUnder(folder)).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
}

async function filesUnder(entry: string): Promise<string[]> {
  const full = path.join(projectRoot, entry);
  if (!(await stat(full)).isDirectory()) return [entry];
  const entries = await readdir(full, { recursive: true, withFileTypes: true });
  return entries.filter((item) => item.isFile()).map((item) => relative(path.join(item.parentPath, item.name)));
}
