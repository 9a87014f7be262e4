import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** Text files worth compressing; images and fonts are compressed already. */
const compressible = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.xml']);
/** Below this a compressed copy saves less than the headers cost. */
const minBytes = 1024;

/**
 * Writes a brotli (.br) and a gzip (.gz) copy beside every text file of the built site, at
 * the highest levels, once at build time, so the runner serves them without compressing
 * on each request (runner/src/server/static-files.ts picks one by Accept-Encoding).
 * A copy that would not be smaller is not written.
 */
export function precompress() {
  return {
    name: 'layerlab-precompress',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const root = fileURLToPath(dir);
        let written = 0;
        for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
          if (!entry.isFile() || !compressible.has(path.extname(entry.name))) continue;
          const file = path.join(entry.parentPath, entry.name);
          const body = await readFile(file);
          if (body.length < minBytes) continue;
          const [br, gz] = await Promise.all([
            brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
            gzipAsync(body, { level: 9 }),
          ]);
          if (br.length < body.length) await writeFile(`${file}.br`, br), written++;
          if (gz.length < body.length) await writeFile(`${file}.gz`, gz), written++;
        }
        logger.info(`${written} compressed copies written (brotli and gzip)`);
      },
    },
  };
}
