import { defineExercise } from '../define.js';

const vault = 'lesson-6-vault';
const hiddenPath = '/vault/recovery-code.txt';
/** The FROM line of starter/vault/Dockerfile: the vault is this image's layers and one per instruction below. */
export const vaultBase = 'busybox:latest';

/**
 * The RUN instructions of starter/vault/Dockerfile, which make the vault's two layers above
 * busybox. The grader checks that lesson-6-vault was made by exactly these, so a vault built
 * from an edited Dockerfile (a code of one's own, a copy left in sight) recovers nothing.
 * A unit test keeps them equal to the Dockerfile.
 */
export const vaultInstructions = [
  `RUN mkdir -p /vault/old && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /vault/recovery-code.txt && echo "rotation 1" > /vault/old/notes.txt`,
  'RUN rm /vault/recovery-code.txt && rm -rf /vault/old && mkdir /vault/old && echo "rotation 2" > /vault/old/notes.txt',
];

/** Lesson 6, inside an image: get a file out of a lower layer that a later layer deletes. */
export default defineExercise({
  id: 'lesson-6',
  title: 'Recover a deleted file from a lower layer',
  image: 'lesson-6',
  buildHint: 'In the sandbox, run `cd ~/exercises/lesson-6 && ./prepare.sh && docker build -t lesson-6 .`',
  checks: [
    {
      id: 'recovered',
      title: `/recovered/recovery-code.txt holds the code that a lower layer of ${vault} still carries`,
      kind: 'file-recovered-from-layer',
      params: { path: '/recovered/recovery-code.txt', from: { image: vault, path: hiddenPath, madeBy: vaultInstructions, base: vaultBase } },
      hint: `No container of ${vault} can show you the file: the top layer deletes it. The bytes are still in the layer below, and \`docker save\` hands you every layer as a tar.`,
    },
    {
      id: 'vault-layers-left-behind',
      title: `Your image does not ship the vault's layer that holds the code`,
      kind: 'layer-not-shipped',
      params: { from: { image: vault, path: hiddenPath } },
      hint: `Copy the one file you recovered into an image of its own; an image built FROM ${vault} carries all of its layers, the one with the code included.`,
    },
  ],
});
