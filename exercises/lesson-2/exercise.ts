import { defineExercise } from '../define.js';

/** Lesson 2, the build context: an ignore file that lets the site in and keeps the rest out. */
export default defineExercise({
  id: 'lesson-2',
  title: 'Send the builder the site and nothing else',
  image: 'lesson-2',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-2 && ./prepare.sh && docker build -t lesson-2 .`',
  checks: [
    {
      id: 'keeps-site',
      title: 'The site, package.json, package-lock.json and README.md are in /app',
      kind: 'files-present',
      params: {
        paths: ['/app/src/index.html', '/app/src/app.js', '/app/src/style.css', '/app/src/config/site.json', '/app/package.json', '/app/package-lock.json', '/app/README.md'],
      },
      hint: '`docker run --rm lesson-2 find /app` lists what the image holds. A `!` line brings a path back only if it comes after the line that left it out.',
    },
    {
      id: 'whole-folder-copied',
      title: 'The Dockerfile still copies the whole folder (COPY . /app): the ignore file decides',
      kind: 'copies-context',
      params: { destination: '/app' },
      hint: 'The task is an ignore file, with the Dockerfile left as it is. `docker history --no-trunc lesson-2` shows the COPY the image was built with; put `COPY . /app` back and leave the choosing to .dockerignore.',
    },
    {
      id: 'no-node-modules',
      title: 'node_modules/ is in no layer of the image',
      kind: 'path-never-in-layers',
      params: { paths: ['/app/node_modules'] },
      hint: 'Watch the "transferring context" line of `docker build --progress=plain .`. Where does the builder look for an ignore file, and under which name?',
    },
    {
      id: 'no-git',
      title: '.git/ is in no layer of the image',
      kind: 'path-never-in-layers',
      params: { paths: ['/app/.git'] },
      hint: '.gitignore tells Git what to leave out of commits; the builder never reads it. The build has an ignore file of its own.',
    },
    {
      id: 'no-secrets',
      title: 'No layer holds a .env file anywhere in /app',
      kind: 'path-never-in-layers',
      params: { paths: ['/app/**/*.env'] },
      hint: 'Patterns are matched against the whole path from the root of the context, so a pattern for the top folder does not reach src/config/. Which wildcard spans folders?',
    },
    {
      id: 'no-docs',
      title: 'No layer holds documentation but the top README.md',
      kind: 'path-never-in-layers',
      params: { paths: ['/app/docs', '/app/CHANGELOG.md', '/app/src/**/*.md'] },
      hint: 'There is Markdown at three depths: the top folder, docs/ and src/. If README.md went missing too, remember that the last line matching a path decides.',
    },
  ],
});
