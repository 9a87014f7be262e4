import { z } from 'zod';
import { escapeLine } from '../report/untrusted.js';
import { layerAt, plural } from '../describe.js';
import type { CheckKind, FileFacts, LayerFacts } from '../types.js';
import { presentBase } from './shares-base-layers.js';

const params = z
  .object({
    /** The base image whose layers come first; only the layers above it are looked at. */
    base: z.string().min(1),
    /** Absolute paths the layers above the base may add or change; their folders are allowed too. */
    paths: z.array(z.string().regex(/^\/[^*?]+$/, 'must be an absolute path without wildcards')).min(1),
  })
  .strict();

const listed = 10;

/**
 * Above the base's layers, the image adds or changes only the given paths (and the folders
 * that hold them), and deletes nothing else. Additions and changes are read from the merged
 * view (a path a later layer deletes again is not counted); deletions from every layer above
 * the base: its whiteouts and the folders it empties (opaque directories). A folder that was
 * there below with the same permissions is not a change: a layer lists it whenever something
 * was made and removed in it (a RUN's temporary file, BuildKit's stub for a mount target),
 * and a container sees the same folder.
 */
export const addsOnly: CheckKind<typeof params> = {
  summary: 'Above its base, the image adds or changes only the given paths',
  params,
  probes: ({ base }) => ({ referenceImages: [base] }),
  evaluate(facts, { base, paths }) {
    const expected = `only ${paths.join(', ')} above ${base}`;
    const reference = presentBase(facts, base);
    const baseCount = reference?.diffIds.length ?? 0;
    const isOnBase = reference !== undefined && reference.diffIds.every((diffId, index) => facts.layers[index]?.diffId === diffId);
    if (!isOnBase) {
      return {
        status: 'skip',
        expected,
        actual: 'not checked',
        message: reference
          ? `Not checked: the image is not built on ${base}, so there are no layers "above ${base}" to look at.`
          : `Not checked: the engine has no image ${base}.`,
      };
    }
    const allowed = new Set(paths.map((filePath) => filePath.split('/').filter(Boolean).join('/')));
    const folders = new Set<string>();
    for (const filePath of allowed) {
      const parts = filePath.split('/');
      for (let length = 1; length < parts.length; length++) folders.add(parts.slice(0, length).join('/'));
    }
    const ownLayers = facts.layers.slice(baseCount);
    const unreadable = ownLayers.filter((layer) => layer.unreadable);
    if (unreadable.length) {
      const which = unreadable.map((layer) => `${layerAt(facts, layer.index)}: ${layer.unreadable}`).join('; ');
      return { status: 'skip', expected, actual: 'unknown', message: `Not every layer above ${base} could be read: ${which}.` };
    }
    const extra = [...facts.files.values()]
      .filter((file) => file.layer >= baseCount && !allowed.has(file.path) && !(file.type === 'directory' && (folders.has(file.path) || isOnlyTouched(facts.layers, file))))
      .sort((a, b) => a.path.localeCompare(b.path));
    const deleted = ownLayers
      .flatMap((layer) => [
        ...layer.whiteouts.filter((removed) => !allowed.has(removed)).map((removed) => ({ path: removed, layer: layer.index, how: 'deletes' })),
        ...layer.opaqueDirectories.map((emptied) => ({ path: emptied, layer: layer.index, how: 'empties' })),
      ])
      .sort((a, b) => a.path.localeCompare(b.path));
    if (!extra.length && !deleted.length) return { status: 'pass', expected, actual: 'nothing else' };
    const sentences: string[] = [];
    if (extra.length) {
      const described = extra.slice(0, listed).map((file) => `/${escapeLine(file.path)} (${layerAt(facts, file.layer)})`);
      if (extra.length > listed) described.push(`and ${extra.length - listed} more`);
      sentences.push(`Above ${base}, the image also adds or changes ${plural(extra.length, 'path')}: ${described.join(', ')}.`);
    }
    if (deleted.length) {
      const described = deleted.slice(0, listed).map((removal) => `${removal.how} /${escapeLine(removal.path)} (${layerAt(facts, removal.layer)})`);
      if (deleted.length > listed) described.push(`and ${deleted.length - listed} more`);
      sentences.push(
        `Above ${base}, the image also removes what was below: it ${described.join(', ')}. ` +
          `A deletion is a change too, and it makes the image no smaller: the layer below still ships the bytes.`,
      );
    }
    return {
      status: 'fail',
      expected,
      actual: [extra.length ? plural(extra.length, 'other path') : '', deleted.length ? `${plural(deleted.length, 'deletion')}` : ''].filter(Boolean).join(', '),
      message: sentences.map(escapeLine).join('\n'),
    };
  },
};

/**
 * The folder `file` is in its layer's tar only because something in it was touched: the
 * version just below it is a folder with the same permissions. Anything added in it, or
 * deleted from it, is counted on its own.
 */
function isOnlyTouched(layers: readonly LayerFacts[], file: FileFacts): boolean {
  for (let index = file.layer - 1; index >= 0; index--) {
    const layer = layers[index]!;
    const below = layer.entries.find((entry) => entry.path === file.path);
    if (below) return below.type === 'directory' && below.mode === file.mode;
    // Deleted or emptied on the way down: what lies below is not what a container saw before.
    if (layer.whiteouts.includes(file.path) || layer.opaqueDirectories.includes(file.path)) return false;
  }
  return false;
}
