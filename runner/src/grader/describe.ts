import { escapeLine } from './report/untrusted.js';
import type { ImageFacts, LayerFacts } from './types.js';

/** Wording shared by evaluators and reporters; sizes read the same on the page (contract/size.ts). */
export { formatSize } from '../contract/size.js';

const instructionLengthInMessages = 70;

/**
 * "layer 2 (`RUN go build …`)": layers are numbered from 1 for people. The instruction is
 * the image's own text, so its controls and newlines are shown escaped (report/untrusted.ts).
 */
export function describeLayer(layer: LayerFacts | undefined, index: number): string {
  const instruction = layer?.instruction !== undefined ? escapeLine(layer.instruction) : undefined;
  if (!instruction) return `layer ${index + 1}`;
  // `docker import` writes "Imported from -" (or a URL) as the row: no instruction to quote.
  if (/^Imported from /.test(instruction)) return `layer ${index + 1} (an imported base filesystem)`;
  const short = instruction.length > instructionLengthInMessages ? `${instruction.slice(0, instructionLengthInMessages - 1)}…` : instruction;
  return `layer ${index + 1} (\`${short}\`)`;
}

/** "after 40 ms", "after 1.2 s". */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function layerAt(facts: ImageFacts, index: number): string {
  return describeLayer(facts.layers[index], index);
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
