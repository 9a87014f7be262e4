import type { Paint } from '../cli/style.js';
import { formatSize } from '../contract/size.js';
import { escapeLine as escapeUntrusted } from '../grader/report/untrusted.js';
import type { CacheReport, ChangedPath, InspectLayer, InspectReport, OverlayReport, RemovedPath, UpperEntry } from '../contract/inspect.js';

const plain: Paint = { bold: (t) => t, dim: (t) => t, green: (t) => t, red: (t) => t, yellow: (t) => t, cyan: (t) => t };

/** Paths listed per kind and layer in text; JSON has them all. */
const pathsShown = 5;

const percent = (fraction: number) => `${(fraction * 100).toFixed(2)} %`;
const plural = (count: number, one: string, many = `${one}s`) => `${count.toLocaleString('en')} ${count === 1 ? one : many}`;

/** `course inspect` for people: the ledger, each layer's changes, the files dive calls inefficient. */
export function renderInspectText(report: InspectReport, paint: Paint = plain): string {
  const lines: string[] = [];
  const id = report.id ? ` (${report.id.replace(/^sha256:/, '').slice(0, 12)})` : '';
  lines.push(`${paint.bold(`Image ${escapeUntrusted(report.ref)}`)}${id}: ${plural(report.layers.length, 'layer')}, ${formatSize(report.sizeBytes)}`);
  lines.push('');

  const { ledger } = report;
  const baseLabel =
    ledger.base.how === 'image'
      ? `From the base image ${escapeUntrusted(ledger.base.image ?? '')} (${plural(ledger.base.layerCount, 'layer')})`
      : `From the first layer (taken as the base, as dive does)`;
  const rows: Array<[string, string]> = [
    [baseLabel, formatSize(ledger.baseBytes)],
    [`Added by the image's own steps (${plural(report.layers.length - ledger.base.layerCount, 'layer')})`, formatSize(ledger.ownBytes)],
    ['Hidden: shipped, but replaced or deleted by a later layer', formatSize(ledger.hiddenBytes)],
    ['Wasted bytes, as dive counts them', `${formatSize(ledger.wastedBytes)} (${ledger.wastedBytes.toLocaleString('en')} bytes)`],
    ['Efficiency, as dive counts it', percent(ledger.efficiency)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  lines.push(paint.bold('Size ledger'));
  for (const [label, value] of rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
  lines.push('');

  lines.push(paint.bold('Layers (bottom to top)'));
  for (const layer of report.layers) lines.push(...renderLayer(layer, report, paint));
  if (report.layers.length === 0) lines.push('  None: the image is its config alone (FROM scratch, no file added).');

  if (report.inefficientFiles.length) {
    lines.push('');
    lines.push(paint.bold('Paths held by more than one layer (dive\'s inefficient files)'));
    lines.push(`  ${'Layers'.padEnd(7)} ${'Bytes'.padStart(9)}  Path`);
    for (const file of report.inefficientFiles.slice(0, 20)) {
      lines.push(`  ${String(file.count).padEnd(7)} ${formatSize(file.sizeBytes).padStart(9)}  ${escapeUntrusted(file.path)}`);
    }
    if (report.inefficientFiles.length > 20) lines.push(paint.dim(`  ... and ${report.inefficientFiles.length - 20} more (--format json lists them all)`));
  }
  return `${lines.join('\n')}\n`;
}

function renderLayer(layer: InspectLayer, report: InspectReport, paint: Paint): string[] {
  const isBase = layer.index < report.ledger.base.layerCount;
  const head = `  #${layer.index} ${formatSize(layer.sizeBytes).padStart(8)}  ${escapeUntrusted(layer.instruction)}${isBase ? paint.dim('  (base)') : ''}`;
  const lines = [head];
  if (layer.unreadable) {
    lines.push(`      ${paint.yellow(`its files could not be read: ${escapeUntrusted(layer.unreadable)}`)}`);
    return lines;
  }
  const counts = [
    layer.added.length ? plural(layer.added.length, 'added', 'added') : '',
    layer.changed.length ? plural(layer.changed.length, 'changed', 'changed') : '',
    layer.removed.length ? plural(layer.removed.length, 'removed', 'removed') : '',
    layer.hiddenBytes ? `${formatSize(layer.hiddenBytes)} of it hidden by later layers` : '',
  ].filter(Boolean);
  lines.push(`      ${counts.length ? counts.join(', ') : 'no file changes (metadata only)'}`);
  lines.push(...listPaths('+', layer.added, (file) => describeFile(file), paint.green));
  lines.push(...listPaths('~', layer.changed, (file) => `${describeFile(file)}, was ${formatSize(file.previousSizeBytes ?? 0)} in layer #${file.previousLayer}`, paint.yellow));
  lines.push(...listPaths('-', layer.removed, describeRemoval, paint.red));
  return lines;
}

function listPaths<T extends ChangedPath | RemovedPath>(mark: string, list: readonly T[], describe: (item: T) => string, color: (text: string) => string): string[] {
  const lines = list.slice(0, pathsShown).map((item) => `      ${color(mark)} ${escapeUntrusted(item.path)}  ${describe(item)}`);
  if (list.length > pathsShown) lines.push(`        ... and ${list.length - pathsShown} more`);
  return lines;
}

function describeFile(file: ChangedPath): string {
  if (file.type === 'file') return formatSize(file.sizeBytes);
  return file.type === 'directory' ? 'folder' : file.type === 'hardlink' ? 'hard link' : file.type;
}

function describeRemoval(removal: RemovedPath): string {
  const what = removal.how === 'opaque-folder' ? 'opaque folder: hides what lower layers put here' : `whiteout${removal.type === 'directory' ? ' of a folder' : removal.type ? '' : ' (nothing below had it)'}`;
  const hidden = removal.pathCount > 1 || removal.how === 'opaque-folder' ? `, ${plural(removal.pathCount, 'path')}` : '';
  return `${what}${hidden}, ${formatSize(removal.sizeBytes)}`;
}

const upperMarks: Record<UpperEntry['kind'], string> = {
  'copied-up': 'copied up',
  created: 'created',
  whiteout: 'whiteout',
  'opaque-folder': 'opaque folder',
  folder: 'folder',
};

/** `course inspect --container` for people: the mount, each folder's role, and what the container changed. */
export function renderOverlayText(report: OverlayReport, paint: Paint = plain): string {
  const lines: string[] = [];
  const { container } = report;
  lines.push(paint.bold(`Container ${escapeUntrusted(container.name)} (${container.id.slice(0, 12)}), image ${escapeUntrusted(container.image)}`));
  lines.push(
    report.mount
      ? `Mounted by the kernel at ${escapeUntrusted(report.mergedDir)} (overlay, from /proc/self/mountinfo in the sandbox)`
      : paint.yellow('Not mounted: the container is not running. Its upper folder is kept on disk and shown below.'),
  );
  lines.push('');
  lines.push(paint.bold('Folders, top to bottom (overlayfs looks from the top)'));
  lines.push(`  merged  ${escapeUntrusted(report.mergedDir)}  what the container sees`);
  lines.push(`  upper   ${escapeUntrusted(report.upperDir)}  the container's own changes (read-write)`);
  report.lowers.forEach((lower, index) => {
    const role =
      lower.role === 'init'
        ? 'init layer: /etc/hosts, /etc/resolv.conf... written by Docker for each container'
        : lower.role === 'image-layer'
          ? `image layer #${lower.layerIndex} ${lower.diffId?.slice(0, 19)}…  ${escapeUntrusted(lower.instruction ?? '')}`
          : 'not a layer of this image';
    lines.push(`  lower ${String(index + 1).padEnd(2)}${escapeUntrusted(lower.dir)}  ${role}`);
  });
  lines.push(`  work    ${escapeUntrusted(report.workDir)}  overlayfs's scratch space`);
  lines.push('');
  lines.push(paint.bold(`The upper folder: ${plural(report.upper.length, 'entry', 'entries')}${report.isTruncated ? ' (cut short)' : ''}`));
  if (!report.upper.length) lines.push('  empty: the container has changed nothing yet');
  for (const entry of report.upper) {
    const hidden = entry.hides ? `, over lower ${entry.hides.lower + 1} (${entry.hides.type === 'file' ? formatSize(entry.hides.sizeBytes) : entry.hides.type})` : '';
    const device = entry.device ? ` ${entry.device.major}/${entry.device.minor}` : '';
    const size = entry.type === 'file' ? ` ${formatSize(entry.sizeBytes)}` : '';
    const seen = entry.kind === 'whiteout' ? '; gone from the merged view' : '';
    lines.push(`  ${upperMarks[entry.kind].padEnd(13)} ${escapeUntrusted(entry.path)}  (${entry.type}${device}${size}${hidden}${seen})`);
  }
  return `${lines.join('\n')}\n`;
}

/** `course inspect --explain-build` for people: each step cached or run, and why it ran. */
export function renderCacheText(report: CacheReport, paint: Paint = plain, siteUrl = ''): string {
  const lines = [paint.bold(`Built ${escapeUntrusted(report.folder)} as ${escapeUntrusted(report.tag)}`), ''];
  for (const step of report.steps) {
    const mark = step.isCached ? paint.green('CACHED ') : step.cause ? paint.yellow('RAN    ') : '       ';
    lines.push(`  ${mark} ${escapeUntrusted(step.name)}${step.line ? paint.dim(`  (line ${step.line})`) : ''}`);
    if (step.cause) lines.push(`          ${paint.dim('why:')} ${escapeUntrusted(step.cause.message)}`);
  }
  const first = report.steps.find((step) => step.cause);
  lines.push('');
  if (!first) lines.push('Every step came from the cache.');
  else lines.push(`The first step that ran again explains the rest. Read more: ${siteUrl}${first.cause!.lessonLink}`);
  return `${lines.join('\n')}\n`;
}
