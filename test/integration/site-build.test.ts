import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../runner/src/project-root.js';

const execFileAsync = promisify(execFile);
const astro = path.join(projectRoot, 'node_modules', 'astro', 'astro.js');

let lessonsDir: string;
let outDir: string;

beforeEach(async () => {
  lessonsDir = await mkdtemp(path.join(os.tmpdir(), 'll-lessons-'));
  outDir = await mkdtemp(path.join(os.tmpdir(), 'll-site-out-'));
});
afterEach(async () => {
  await rm(lessonsDir, { recursive: true, force: true });
  await rm(outDir, { recursive: true, force: true });
});

/** Builds the real site from a folder of lessons of the test's own. */
async function buildSite(): Promise<{ exitCode: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [astro, 'build', '--root', 'site', '--outDir', outDir], {
      cwd: projectRoot,
      env: { ...process.env, LAYERLAB_LESSONS_DIR: lessonsDir, ASTRO_TELEMETRY_DISABLED: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { exitCode: failed.code, output: failed.stdout + failed.stderr };
  }
}

function lesson(frontmatter: string): string {
  return `---\n${frontmatter.trim()}\n---\n\nSome text.\n\n\`\`\`sh\ndocker images\n\`\`\`\n`;
}

describe('the site build', () => {
  it('builds a page per lesson and the catalog the runner reads', async () => {
    await writeFile(path.join(lessonsDir, 'lesson-2.mdx'), lesson('title: Second\nsummary: The second one.\nobjectives:\n  - Read'));
    await writeFile(path.join(lessonsDir, 'lesson-10.mdx'), lesson('title: Tenth\nsummary: The tenth one.\nexercise: lesson-7\nobjectives:\n  - Read'));
    const build = await buildSite();
    expect(build.exitCode, build.output).toBe(0);
    const catalog = JSON.parse(await readFile(path.join(outDir, 'course.json'), 'utf8'));
    expect(catalog.lessons.map((entry: { id: string }) => entry.id)).toEqual(['lesson-2', 'lesson-10']);
    const page = await readFile(path.join(outDir, 'lessons', 'lesson-10', 'index.html'), 'utf8');
    expect(page).toContain('Tenth');
    expect(page).toContain('data-check-panel');
    expect(await readFile(path.join(outDir, 'lessons', 'lesson-2', 'index.html'), 'utf8')).not.toContain('data-check-panel');
  }, 120_000);

  it('fails on an unknown frontmatter key, naming the file and the key', async () => {
    await writeFile(path.join(lessonsDir, 'lesson-3.mdx'), lesson('title: Typo\nsummary: Has a typo.\nexercize: lesson-7\nobjectives:\n  - Read'));
    const build = await buildSite();
    expect(build.exitCode).not.toBe(0);
    expect(build.output).toContain(path.join(lessonsDir, 'lesson-3.mdx'));
    expect(build.output).toContain("'exercize'");
  }, 120_000);

  it('fails on a lesson naming an exercise that does not exist, naming the file, the field and the fix', async () => {
    await writeFile(path.join(lessonsDir, 'lesson-4.mdx'), lesson('title: Missing\nsummary: Names no real exercise.\nexercise: lesson-99\nobjectives:\n  - Read'));
    const build = await buildSite();
    expect(build.exitCode).not.toBe(0);
    expect(build.output).toContain(path.join(lessonsDir, 'lesson-4.mdx'));
    expect(build.output).toMatch(/exercise: there is no exercise "lesson-99" \(expected exercises\/lesson-99\/exercise\.ts\)/);
  }, 120_000);
});
