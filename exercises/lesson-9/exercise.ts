import { defineExercise } from '../define.js';

const signedOff = 'lesson-9-release-1';

/** Lesson 9, registries: a tag moves, a digest does not. Build on the release by its digest. */
export default defineExercise({
  id: 'lesson-9',
  title: 'Build on the signed-off release, by digest',
  image: 'lesson-9',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-9 && ./prepare.sh && docker build -t lesson-9 .`',
  checks: [
    {
      id: 'on-signed-off-release',
      title: 'The image is built on the release the team signed off',
      kind: 'shares-base-layers',
      params: { base: signedOff },
      hint: 'A tag names whatever was pushed under it last; `docker pull` it and read the file it holds. The registry still holds the earlier release, and signed-off.txt names it in the one way that cannot move.',
    },
    {
      id: 'pinned-by-digest',
      title: 'The FROM line names the release by its digest, the name that cannot move',
      kind: 'base-named-by-digest',
      params: {},
      hint: 'A tag, the registry\'s or one on your own engine, names whatever was put under it last. signed-off.txt holds the reference with the digest: put it after FROM exactly as it is.',
    },
    {
      id: 'release-file',
      title: '/etc/team-release says release 1, as the team signed it off',
      kind: 'file-contains',
      params: { path: '/etc/team-release', text: 'release 1, signed off by the team' },
      hint: 'The file comes from the base image, not from your Dockerfile: change which image the FROM line names, not the file.',
    },
    {
      id: 'only-the-app',
      title: 'Your layer adds the shop front and nothing else',
      kind: 'adds-only',
      params: { base: signedOff, paths: ['/srv/app.txt'] },
      hint: 'Writing /etc/team-release yourself does not make it the signed-off release: keep the Dockerfile to its FROM line and the COPY of app.txt.',
    },
  ],
});
