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
