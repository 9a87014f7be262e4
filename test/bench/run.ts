import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connectEngine } from '../../runner/src/engine.js';
import { projectRoot } from '../../runner/src/project-root.js';
import { resetSandbox } from '../../runner/src/sandbox/sandbox.js';
import { silentProgress } from '../../runner/src/progress.js';
import { removeTestObjects } from '../support/cleanup.js';
import { instanceFor, testSandboxEnv } from '../support/sandbox-env.js';
import { newTestRunId } from '../support/test-run.js';
import { benchSuites } from './suites.js';
import type { BenchResult } from './types.js';

/**
 * `npm run bench`: runs every suite against a sandbox of its own, prints a table and writes
 * bench/latest.json as { "results": [{ "name", "value", "unit" }] }.
 * `npm run bench -- NAME…` runs only the suites named.
 */
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const names = benchSuites.map((suite) => suite.name);
  if (only.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(`Usage: npm run bench [-- SUITE...]\nRuns every suite (or those named), prints a table and writes bench/latest.json.\nSuites: ${names.join(', ')}\n`);
    return;
  }
  // A misspelt name would otherwise run nothing and still rewrite the file's date.
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length) {
    process.stderr.write(`bench: no suite named ${unknown.map((name) => JSON.stringify(name)).join(', ')}; nothing was run or written.\n  Suites: ${names.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const runId = newTestRunId();
  const sandboxEnv = testSandboxEnv(runId, 'bench');
  const engine = await connectEngine();
  await removeTestObjects(engine.docker);
  const results: BenchResult[] = [];
  try {
    for (const suite of benchSuites) {
      if (only.length && !only.includes(suite.name)) continue;
      process.stderr.write(`• ${suite.name}\n`);
      results.push(...(await suite.run({ sandboxEnv, runId, log: (line) => process.stderr.write(`  ${line}\n`) })));
    }
  } finally {
    await resetSandbox(engine, instanceFor(sandboxEnv), silentProgress);
    await removeTestObjects(engine.docker, runId);
    await rm(sandboxEnv.LAYERLAB_DATA_DIR!, { recursive: true, force: true });
  }
  printTable(results);
  const file = path.join(projectRoot, 'bench', 'latest.json');
  // A run of some suites replaces their numbers and keeps the other suites' last ones.
  const measuredNow = new Set(results.map((result) => result.name));
  const kept = (await readPreviousResults(file)).filter((result) => !measuredNow.has(result.name));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify({ date: new Date().toISOString(), results: [...kept, ...results] }, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  process.stderr.write(`Wrote ${path.relative(process.cwd(), file)}\n`);
}

async function readPreviousResults(file: string): Promise<BenchResult[]> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { results: BenchResult[] }).results;
  } catch {
    return [];
  }
}

function printTable(results: BenchResult[]): void {
  const nameWidth = Math.max(4, ...results.map((result) => result.name.length));
  const valueWidth = Math.max(5, ...results.map((result) => formatValue(result.value).length));
  const lines = [
    `${'name'.padEnd(nameWidth)}  ${'value'.padStart(valueWidth)}  unit`,
    `${'-'.repeat(nameWidth)}  ${'-'.repeat(valueWidth)}  ----`,
    ...results.map((result) => `${result.name.padEnd(nameWidth)}  ${formatValue(result.value).padStart(valueWidth)}  ${result.unit}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
