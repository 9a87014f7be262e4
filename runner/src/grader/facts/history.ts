import type { ImageConfigJson } from './image-archive.js';

export interface LayerOrigin {
  createdBy?: string;
  instruction?: string;
}

/**
 * Which history row made each layer. The config's history has a row per instruction; rows
 * marked `empty_layer` (ENV, CMD, EXPOSE...) made no layer, every other row made the next
 * one (image-spec config.md). When the counts disagree (a `docker import`, a hand-edited
 * image) the rows are matched from the top, where the learner's own instructions are.
 */
export function layerOrigins(history: ImageConfigJson['history'], layerCount: number): LayerOrigin[] {
  const rows = (history ?? []).filter((row) => !row.empty_layer);
  const origins: LayerOrigin[] = Array.from({ length: layerCount }, () => ({}));
  const offset = layerCount - rows.length;
  rows.forEach((row, rowIndex) => {
    const layer = rowIndex + offset;
    if (layer < 0 || layer >= layerCount) return;
    const createdBy = row.created_by ?? (row.comment ? `(${row.comment})` : undefined);
    if (createdBy === undefined) return;
    origins[layer] = { createdBy, instruction: describeInstruction(createdBy) };
  });
  return origins;
}

/**
 * The Dockerfile instruction behind a history row, in the learner's words. The builders
 * write it differently (facts.md §2):
 *   legacy   `/bin/sh -c #(nop) COPY file:ab12… in /server `, `/bin/sh -c go build ./...`
 *   BuildKit `COPY /out/server /server # buildkit`, `RUN /bin/sh -c go build ./... # buildkit`
 */
export function describeInstruction(createdBy: string): string {
  const oneLine = instructionOf(createdBy);
  return oneLine.length > 160 ? `${oneLine.slice(0, 157)}...` : oneLine;
}

/** The same, whole: for comparing with a Dockerfile's instruction, not for showing. */
export function instructionOf(createdBy: string): string {
  // Build args used by a RUN are written first, as "|2 A=1 B=2 ", by both builders.
  let text = createdBy.trim().replace(/\s+# buildkit$/, '').replace(/^\|\d+ (?:\S+=\S* )*/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s*(.*)$/s.exec(text);
  if (nop) return collapse(nop[1]!);
  const legacyRun = /^\/bin\/sh -c (.*)$/s.exec(text);
  if (legacyRun) return collapse(`RUN ${legacyRun[1]}`);
  const buildkitRun = /^RUN (?:\|\d+ (?:\S+=\S* )*)?\/bin\/sh -c (.*)$/s.exec(text);
  if (buildkitRun) return collapse(`RUN ${buildkitRun[1]}`);
  return collapse(text);
}

function collapse(text: string): string {
  // The legacy builder names copied content by its hash (`COPY file:bd3411da…`); 12 digits tell them apart.
  return text
    .replace(/\s*\\\n\s*/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/\b([0-9a-f]{12})[0-9a-f]{20,}\b/g, '$1…')
    .trim();
}

/** A Dockerfile instruction as the history shows it: continuation lines joined, spaces collapsed. */
export function normaliseInstruction(text: string): string {
  return text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim();
}
