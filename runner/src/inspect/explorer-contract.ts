/** The course server's inspect API, as the image explorer page calls it: types only. */
export type { InspectReport } from './report.js';
export type { OverlayReport } from './overlay-report.js';

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
