/**
 * What `course inspect`, the course server's inspect API and the image explorer page share:
 * the inspect report (layers, ledger, dive's figures), the overlay2 explorer's report, the
 * cache explainer's report, and the API's listings. Types and constants only.
 */

/**
 * What `course inspect --format json`, the course server's inspect API and the image explorer
 * page share: types only, so the site can import them without runner code.
 *
 * Paths carry a leading "/". Sizes are bytes of file content as the layer tars hold them.
 * Names come from the image and are untrusted: escape them wherever they are printed.
 */

export const inspectSchemaVersion = 1;

export type InspectFileType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface InspectReport {
  schemaVersion: typeof inspectSchemaVersion;
  /** What was asked for: an image name, or the archive file. */
  ref: string;
  /** The image id (config digest), when known. */
  id?: string;
  source: 'engine' | 'archive';
  /** dive's sizeBytes: every layer's sizeBytes added up. */
  sizeBytes: number;
  /** dive's efficiency score, 0 to 1 (dive/filetree/efficiency.go). */
  efficiency: number;
  /** dive's wasted bytes: every copy of each path that more than one layer holds. */
  wastedBytes: number;
  /** dive's userSizeBytes: every layer but the first. */
  userSizeBytes: number;
  /** dive's wasted-user-percent (0 to 1; 0 when there are no user bytes): wastedBytes / userSizeBytes. */
  userWastedPercent: number;
  ledger: SizeLedger;
  /** dive's inefficient files: paths held by more than one layer, biggest first. */
  inefficientFiles: InefficientFile[];
  layers: InspectLayer[];
}

/** Where the bytes of an image come from and where they go. */
export interface SizeLedger {
  /** Bytes of the layers the base image brought. */
  baseBytes: number;
  /** Bytes of the layers the image's own steps added. */
  ownBytes: number;
  /** As dive counts them (see InspectReport.wastedBytes). */
  wastedBytes: number;
  /** Bytes that ship but no container sees: files a later layer replaces or deletes. */
  hiddenBytes: number;
  efficiency: number;
  base: LedgerBase;
}

export interface LedgerBase {
  /** How many layers, from the bottom, belong to the base. */
  layerCount: number;
  /**
   * `image`: another image on the engine has exactly these bottom layers (its name is `image`).
   * `first-layer`: nothing known about the base, so the bottom layer counts as the base, as dive does.
   */
  how: 'image' | 'first-layer';
  image?: string;
}

export interface InefficientFile {
  path: string;
  /** Layers that hold a copy (or a deletion) of it. */
  count: number;
  sizeBytes: number;
}

export interface InspectLayer {
  index: number;
  diffId: string;
  /** The Dockerfile instruction that made it, shortened ("RUN apt-get install ..."). */
  instruction: string;
  /** The history row as the builder wrote it. */
  createdBy: string;
  sizeBytes: number;
  /** Bytes of this layer that a later layer replaces or deletes. */
  hiddenBytes: number;
  /** Paths no layer below had (or a layer below deleted). */
  added: ChangedPath[];
  /** Paths a layer below had, written again by this layer (new content, mode or type). */
  changed: ChangedPath[];
  /** What this layer deletes: whiteouts, and opaque folders that hide everything below them. */
  removed: RemovedPath[];
  /** Why the layer's files could not be read; its lists are empty then. */
  unreadable?: string;
}

export interface ChangedPath {
  path: string;
  type: InspectFileType;
  sizeBytes: number;
  /** For changed paths: the size and layer of the version this one replaces. */
  previousSizeBytes?: number;
  previousLayer?: number;
}

export interface RemovedPath {
  path: string;
  /** `whiteout`: a `.wh.<name>` file deletes the path. `opaque-folder`: `.wh..wh..opq` hides what lower layers put in the folder. */
  how: 'whiteout' | 'opaque-folder';
  /** What was there before: a file, a folder... (absent when nothing was). */
  type?: InspectFileType;
  /** Bytes of file content it hides from the layers below. */
  sizeBytes: number;
  /** Files, links and folders it hides. */
  pathCount: number;
}

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

/** What the cache explainer reports, shared by `course inspect --explain-build` and the page: types only. */

export const cacheReportSchemaVersion = 1;

/** The lesson-5 sections that explain each cause. */
export const cacheLessonLinks = {
  key: '/lessons/lesson-5/#how-the-builder-decides',
  cascade: '/lessons/lesson-5/#one-miss-and-everything-after-it-runs-again',
} as const;

export interface CacheReport {
  schemaVersion: typeof cacheReportSchemaVersion;
  /** The build context, as the sandbox sees it. */
  folder: string;
  tag: string;
  buildArgs: Record<string, string>;
  /** Whether an earlier build of this folder and tag was recorded to compare with. */
  hasEarlierBuild: boolean;
  /** In Dockerfile order. */
  steps: ExplainedStep[];
}

export interface ExplainedStep {
  /** As BuildKit names it: "[3/5] COPY . .". */
  name: string;
  /** Line of the Dockerfile, when the step was matched to one. */
  line?: number;
  isCached: boolean;
  /** Why it ran again, for steps that did (the base image's FROM never does). */
  cause?: CacheMissCause;
}

export type CacheMissCause = { message: string; lessonLink: string } & (
  | { kind: 'no-earlier-build' }
  | { kind: 'instruction-changed'; before: string }
  | { kind: 'base-changed'; baseRef: string; before: string; after: string }
  | { kind: 'arg-changed' | 'env-changed'; variable: string; before?: string; after?: string }
  | { kind: 'context-file-changed'; changed: string[]; added: string[]; removed: string[] }
  | { kind: 'earlier-step-rebuilt'; step: string }
  | { kind: 'copied-stage-rebuilt'; stage: string }
  | { kind: 'not-in-cache' }
);

/** The course server's inspect API, as the image explorer page calls it: types only. */

/** GET /api/inspect/images */
export interface SandboxImageSummary {
  id: string;
  /** "name:tag" references; empty for an untagged image. */
  tags: string[];
  /** The engine's size of the image. */
  sizeBytes: number;
  createdAt: string;
}

/** GET /api/inspect/containers */
export interface SandboxContainerSummary {
  id: string;
  name: string;
  image: string;
  /** The engine's word: running, exited, created... */
  state: string;
}

/** GET /api/inspect/build-folders: folders of the sandbox that hold a Dockerfile. */
export interface BuildFolderSummary {
  /** As the sandbox sees it: /root/exercises/lesson-5. */
  path: string;
  /** A tag to build it as, from the folder's name. */
  suggestedTag: string;
}

/** POST /api/inspect/explain-build (answered with a CacheReport). */
export interface ExplainBuildRequest {
  folder: string;
  tag: string;
  buildArgs?: Record<string, string>;
}

/** GET /api/inspect/builds: builds BuildKit remembers (those run in the terminal too), newest first. */
export interface TerminalBuild {
  /** BuildKit's build reference. */
  ref: string;
  /** The image name, when BuildKit's exporter records it (the Docker engine's does not: builds are told by their steps). */
  image?: string;
  startedAt: string;
  finishedAt: string;
  buildArgs: Record<string, string>;
  error?: string;
  /** Dockerfile steps in BuildKit's order, each with its own word on the cache. */
  steps: TerminalBuildStep[];
  /** For the first step that ran again, what can be told by comparing with the last build of the same Dockerfile. */
  firstRan?: { step: string; cause: CacheMissCause };
}

export interface TerminalBuildStep {
  /** As BuildKit names it: "[3/5] COPY . .". */
  name: string;
  /** The stage label ("" for a lone stage, else its AS name or stage-N). */
  stage: string;
  /** 1 for FROM. */
  number: number;
  isCached: boolean;
  error?: string;
  /** The digest of BuildKit's operation: another digest for the same name means other inputs. */
  digest?: string;
}
