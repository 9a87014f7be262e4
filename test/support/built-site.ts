import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../runner/src/project-root.js';

const execFileAsync = promisify(execFile);

/**
 * Builds the real site into a new temporary folder and returns it. A folder of the test's
 * own: another build of site/dist may run at the same time. The caller removes it.
 */
export async function buildSiteIntoTempFolder(): Promise<string> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'll-built-site-'));
  await execFileAsync(process.execPath, [path.join(projectRoot, 'node_modules', 'astro', 'astro.js'), 'build', '--root', 'site', '--outDir', outDir], {
    cwd: projectRoot,
    env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return outDir;
}
