import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';
import { precompress } from './integrations/precompress.mjs';
import { relativeLinks } from './integrations/relative-links.mjs';

// The course site. `npm run build` writes it to site/dist, which `course start` serves
// together with its API; the same files read well from any static server, in any folder.
export default defineConfig({
  // relativeLinks first: the compressed copies are made of the final pages.
  integrations: [mdx(), relativeLinks(), precompress()],
  output: 'static',
  trailingSlash: 'always',
  build: { format: 'directory' },
  devToolbar: { enabled: false },
  markdown: {
    shikiConfig: {
      themes: { light: 'github-light', dark: 'github-dark' },
      defaultColor: false,
    },
  },
  vite: {
    build: { chunkSizeWarningLimit: 600 },
  },
});
