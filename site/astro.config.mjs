import mdx from '@astrojs/mdx';
import { defineConfig } from 'astro/config';

// The course site. `npm run build` writes it to site/dist, which `course start` serves
// together with its API; the same files read well from any static server.
export default defineConfig({
  integrations: [mdx()],
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
