import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Rewrites the root-relative links of every built page ("/lessons/lesson-2/",
 * "/_astro/x.css") into links relative to the page ("../lesson-2/", "../../_astro/x.css"),
 * so the built site works from any folder of any static server, not only from its root.
 * Links to folders get their index.html only when read from file:// would need it, which
 * BaseLayout explains instead. 404.html keeps root links: a server shows it at any depth.
 */
export function relativeLinks() {
  return {
    name: 'layerlab-relative-links',
    hooks: {
      'astro:build:done': async ({ dir }) => {
        const root = fileURLToPath(dir);
        for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
          if (!entry.isFile() || !entry.name.endsWith('.html') || (entry.parentPath === root.replace(/\/$/, '') && entry.name === '404.html')) continue;
          const file = path.join(entry.parentPath, entry.name);
          const depth = path.relative(root, entry.parentPath).split(path.sep).filter(Boolean).length;
          const up = depth ? '../'.repeat(depth) : './';
          const html = await readFile(file, 'utf8');
          const rewritten = html.replace(/(\s(?:href|src)=)(["'])\/(?!\/)([^"']*)\2/g, (_match, attribute, quote, rest) => `${attribute}${quote}${up}${rest}${quote}`);
          if (rewritten !== html) await writeFile(file, rewritten);
        }
      },
    },
  };
}
