import { addToParents, removeSubtree } from '../grader/facts/merged-view.js';
import { diveEfficiency, type EfficiencyLayer } from './dive-efficiency.js';
import {
  inspectSchemaVersion,
  type ChangedPath,
  type InspectFileType,
  type InspectLayer,
  type InspectReport,
  type LedgerBase,
  type RemovedPath,
} from '../contract/inspect.js';

/** One layer as the image reader hands it over (the grader's LayerFacts fits). */
export interface SourceLayer extends EfficiencyLayer {
  diffId: string;
  sizeBytes: number;
  createdBy?: string;
  instruction?: string;
  unreadable?: string;
  entries: ReadonlyArray<{ path: string; type: InspectFileType; sizeBytes: number }>;
}

export interface SourceImage {
  ref: string;
  id?: string;
  source: InspectReport['source'];
  /** Bottom to top. */
  layers: readonly SourceLayer[];
  /** Which bottom layers are the base image's; without it the first layer is, as in dive. */
  base?: LedgerBase;
}

interface PathState {
  type: InspectFileType;
  sizeBytes: number;
  layer: number;
}

/**
 * Turns an image's layers into the inspect report: per layer what it adds, changes and
 * removes, the size ledger, and dive's efficiency and wasted bytes. Pure: no I/O.
 */
export function analyseImage(image: SourceImage): InspectReport {
  const { layers } = image;
  const dive = diveEfficiency(layers);
  const hiddenBytes = layers.map(() => 0);
  const present = new Map<string, PathState>();
  const children = new Map<string, Set<string>>();

  /** Deletes `root` (or only what is under it) and says what went, for the ledger and the lists. */
  const removeTree = (root: string, keepRoot: boolean): { sizeBytes: number; pathCount: number } => {
    let sizeBytes = 0;
    let pathCount = 0;
    removeSubtree(present, children, root, keepRoot, (_, state) => {
      if (!state) return;
      sizeBytes += state.sizeBytes;
      pathCount++;
      hiddenBytes[state.layer]! += state.sizeBytes;
    });
    return { sizeBytes, pathCount };
  };

  const inspected = layers.map((layer, index): InspectLayer => {
    const added: ChangedPath[] = [];
    const changed: ChangedPath[] = [];
    const removed: RemovedPath[] = [];
    for (const directory of layer.opaqueDirectories) {
      const hidden = removeTree(directory, true);
      removed.push({ path: `/${directory}`, how: 'opaque-folder', type: 'directory', ...hidden });
    }
    for (const whiteout of layer.whiteouts) {
      const type = present.get(whiteout)?.type ?? (children.has(whiteout) ? 'directory' : undefined);
      const hidden = removeTree(whiteout, false);
      removed.push({ path: `/${whiteout}`, how: 'whiteout', ...(type ? { type } : {}), ...hidden });
    }
    for (const entry of layer.entries) {
      const previous = present.get(entry.path);
      const record: ChangedPath = { path: `/${entry.path}`, type: entry.type, sizeBytes: entry.sizeBytes };
      if (!previous) {
        // A folder nobody listed but that holds files below exists all the same.
        if (!(entry.type === 'directory' && children.has(entry.path))) added.push(record);
      } else if (previous.type === 'directory' && entry.type === 'directory') {
        // Listed again because something inside it changed: not a change of its own.
      } else {
        changed.push({ ...record, previousSizeBytes: previous.sizeBytes, previousLayer: previous.layer });
        // A file over a folder hides what the folder held; the old version itself is hidden too.
        if (previous.type === 'directory') removeTree(entry.path, true);
        hiddenBytes[previous.layer]! += previous.sizeBytes;
      }
      present.set(entry.path, { type: entry.type, sizeBytes: entry.sizeBytes, layer: index });
      addToParents(children, entry.path);
    }
    return {
      index,
      diffId: layer.diffId,
      instruction: layer.instruction ?? layer.createdBy ?? '(no history)',
      createdBy: layer.createdBy ?? '',
      sizeBytes: layer.sizeBytes,
      hiddenBytes: 0,
      added: biggestFirst(added),
      changed: biggestFirst(changed),
      removed: biggestFirst(removed),
      ...(layer.unreadable ? { unreadable: layer.unreadable } : {}),
    };
  });
  inspected.forEach((layer, index) => (layer.hiddenBytes = hiddenBytes[index]!));

  const sizeBytes = layers.reduce((sum, layer) => sum + layer.sizeBytes, 0);
  const userSizeBytes = layers.slice(1).reduce((sum, layer) => sum + layer.sizeBytes, 0);
  const base: LedgerBase = image.base ?? { layerCount: Math.min(1, layers.length), how: 'first-layer' };
  const baseBytes = layers.slice(0, base.layerCount).reduce((sum, layer) => sum + layer.sizeBytes, 0);
  return {
    schemaVersion: inspectSchemaVersion,
    ref: image.ref,
    ...(image.id ? { id: image.id } : {}),
    source: image.source,
    sizeBytes,
    efficiency: dive.efficiency,
    wastedBytes: dive.wastedBytes,
    userSizeBytes,
    // dive divides by zero here (NaN in Go, which its JSON cannot even hold); 0 says "nothing wasted".
    userWastedPercent: userSizeBytes === 0 ? 0 : dive.wastedBytes / userSizeBytes,
    ledger: {
      baseBytes,
      ownBytes: sizeBytes - baseBytes,
      wastedBytes: dive.wastedBytes,
      hiddenBytes: hiddenBytes.reduce((sum, bytes) => sum + bytes, 0),
      efficiency: dive.efficiency,
      base,
    },
    inefficientFiles: [...dive.inefficientPaths].reverse().map((found) => ({ path: found.path, count: found.count, sizeBytes: found.cumulativeBytes })),
    layers: inspected,
  };
}

/** Biggest first; equal sizes by path, so the order never depends on the tar's. */
function biggestFirst<T extends { path: string; sizeBytes: number }>(list: T[]): T[] {
  return list.sort((a, b) => b.sizeBytes - a.sizeBytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
