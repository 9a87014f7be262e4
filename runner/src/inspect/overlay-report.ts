/**
 * The overlay2 explorer's view of one container, shared by `course inspect --container`,
 * the course server's API and the lesson-8 panel: types only.
 */

export const overlaySchemaVersion = 1;

export interface OverlayReport {
  schemaVersion: typeof overlaySchemaVersion;
  container: { name: string; id: string; image: string; imageId: string; isRunning: boolean };
  /**
   * The overlay mount as the kernel lists it in /proc/self/mountinfo of the sandbox, where the
   * nested engine mounts it. Absent when the container is not running (nothing is mounted;
   * its upper folder stays on disk).
   */
  mount?: { mergedDir: string; options: string };
  /** Top to bottom, as overlayfs searches them: the container's init layer first, then the image's. */
  lowers: OverlayLower[];
  upperDir: string;
  workDir: string;
  mergedDir: string;
  /** What the container changed: every entry of the upper folder, path order. */
  upper: UpperEntry[];
  /** The upper folder had more entries than were read. */
  isTruncated: boolean;
}

export interface OverlayLower {
  /** The folder overlayfs reads (its short link under overlay2/l/, resolved). */
  dir: string;
  /** As the mount names it (overlay2/l/<short name>), when mounted. */
  link?: string;
  /** The folder's name under overlay2/: the layer's cache id. */
  cacheId: string;
  /** `init`: what Docker writes for every container (/etc/hosts, /etc/resolv.conf...). */
  role: 'init' | 'image-layer' | 'unknown';
  /** For image layers: its index in the image (0 = bottom), diff ID and instruction. */
  layerIndex?: number;
  diffId?: string;
  chainId?: string;
  instruction?: string;
}

export interface UpperEntry {
  /** With a leading "/". */
  path: string;
  /**
   * `copied-up`: a lower layer has this path; the container wrote to it, so overlayfs copied it up.
   * `created`: no lower layer has it.
   * `whiteout`: a character device 0/0 that deletes the path of the lower layers.
   * `opaque-folder`: a folder marked trusted.overlay.opaque=y: nothing below shows through.
   * `folder`: a folder that holds changes and lets the lower folders show through.
   */
  kind: 'copied-up' | 'created' | 'whiteout' | 'opaque-folder' | 'folder';
  type: 'file' | 'directory' | 'symlink' | 'char-device' | 'other';
  sizeBytes: number;
  /** For character devices: their numbers (0/0 makes a whiteout). */
  device?: { major: number; minor: number };
  /** The lower version this entry hides or deletes: which lower (index into lowers), its type and size. */
  hides?: { lower: number; type: UpperEntry['type']; sizeBytes: number };
}
