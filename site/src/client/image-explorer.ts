import type { ChangedPath, InspectLayer, InspectReport, RemovedPath, SandboxImageSummary } from '../../../runner/src/contract/inspect';
import { formatSize } from '../../../runner/src/contract/size';
import { findRunner } from './runner';
import { element, requestJson as getJson, visible } from './explorer-dom';

/** How often the page asks whether the images changed (a build in the terminal). */
const refreshMs = 4000;

type Mark = 'added' | 'changed' | 'removed';

interface TreeNode {
  name: string;
  path: string;
  sizeBytes: number;
  mark?: Mark;
  detail?: string;
  children: Map<string, TreeNode>;
}

function imageLabel(image: SandboxImageSummary): string {
  return `${image.tags[0] ?? `<untagged> ${image.id.replace(/^sha256:/, '').slice(0, 12)}`}  (${formatSize(image.sizeBytes)})`;
}

/** The layer's changes as a tree of folders, each folder as big as what changed below it. */
export function layerTree(layer: InspectLayer): TreeNode {
  const root: TreeNode = { name: '/', path: '', sizeBytes: 0, children: new Map() };
  const add = (path: string, sizeBytes: number, mark: Mark, detail: string) => {
    const names = path.split('/').filter(Boolean);
    let node = root;
    node.sizeBytes += sizeBytes;
    names.forEach((name, index) => {
      let child = node.children.get(name);
      if (!child) {
        child = { name, path: `${node.path}/${name}`, sizeBytes: 0, children: new Map() };
        node.children.set(name, child);
      }
      child.sizeBytes += sizeBytes;
      if (index === names.length - 1) {
        child.mark = mark;
        child.detail = detail;
      }
      node = child;
    });
  };
  const describe = (file: ChangedPath) => (file.type === 'file' ? formatSize(file.sizeBytes) : file.type === 'directory' ? 'folder' : file.type);
  for (const file of layer.added) add(file.path, file.sizeBytes, 'added', describe(file));
  for (const file of layer.changed) add(file.path, file.sizeBytes, 'changed', `${describe(file)}, was ${formatSize(file.previousSizeBytes ?? 0)} in layer #${file.previousLayer}`);
  for (const removal of layer.removed) add(removal.path, 0, 'removed', describeRemoval(removal));
  return root;
}

function describeRemoval(removal: RemovedPath): string {
  return removal.how === 'opaque-folder'
    ? `opaque folder: hides ${removal.pathCount} paths (${formatSize(removal.sizeBytes)}) of lower layers`
    : `whiteout: deletes ${removal.type === 'directory' ? `a folder of ${removal.pathCount} paths` : removal.type ?? 'nothing'} (${formatSize(removal.sizeBytes)})`;
}

function biggestFirst(children: Map<string, TreeNode>): TreeNode[] {
  return [...children.values()].sort((a, b) => b.sizeBytes - a.sizeBytes || (a.name < b.name ? -1 : 1));
}

const markSymbols: Record<Mark, string> = { added: '+', changed: '~', removed: '−' };

export function startImageExplorer(root: HTMLElement): void {
  const picker = root.querySelector<HTMLSelectElement>('[data-image-picker]')!;
  const status = root.querySelector<HTMLElement>('[data-explorer-status]')!;
  const ledgerSection = root.querySelector<HTMLElement>('[data-ledger-section]')!;
  const ledger = root.querySelector<HTMLElement>('[data-ledger]')!;
  const columns = root.querySelector<HTMLElement>('[data-columns]')!;
  const layersList = root.querySelector<HTMLOListElement>('[data-layers]')!;
  const tree = root.querySelector<HTMLUListElement>('[data-tree]')!;
  const filesHeading = root.querySelector<HTMLElement>('[data-files-heading]')!;
  const copies = root.querySelector<HTMLOListElement>('[data-copies]')!;
  const copiesHint = root.querySelector<HTMLElement>('[data-copies-hint]')!;

  let images: SandboxImageSummary[] = [];
  let report: InspectReport | undefined;
  let shownId: string | undefined;
  let selectedLayer = 0;

  const say = (text: string) => (status.textContent = text);

  function renderLedger(current: InspectReport): void {
    const { ledger: sizes } = current;
    const base = sizes.base.how === 'image' ? `From ${visible(sizes.base.image ?? '')}` : 'First layer (the base, as dive takes it)';
    const rows: Array<[string, string]> = [
      [base, formatSize(sizes.baseBytes)],
      ['Added by its own steps', formatSize(sizes.ownBytes)],
      ['Hidden by later layers', formatSize(sizes.hiddenBytes)],
      ['Wasted, as dive counts', formatSize(sizes.wastedBytes)],
      ['Efficiency, as dive counts', `${(sizes.efficiency * 100).toFixed(2)} %`],
    ];
    ledger.replaceChildren(...rows.map(([label, value]) => {
      const row = element('div');
      row.append(element('dt', {}, label), element('dd', {}, value));
      return row;
    }));
    ledgerSection.hidden = false;
  }

  function renderLayers(current: InspectReport): void {
    layersList.replaceChildren(
      ...current.layers.map((layer) => {
        const item = element('li');
        const button = element('button', { type: 'button', 'aria-pressed': String(layer.index === selectedLayer), 'data-layer': String(layer.index) });
        const counts = [`+${layer.added.length}`, `~${layer.changed.length}`, `−${layer.removed.length}`].join('  ');
        const meta = element('span', { class: 'meta' }, `#${layer.index} · ${formatSize(layer.sizeBytes)} · ${counts}${layer.hiddenBytes ? ` · ${formatSize(layer.hiddenBytes)} hidden later` : ''}`);
        if (layer.index < current.ledger.base.layerCount) meta.append(' · ', element('span', { class: 'base' }, 'base'));
        button.append(element('span', { class: 'instruction' }, visible(layer.instruction)), meta);
        button.addEventListener('click', () => selectLayer(layer.index));
        item.append(button);
        return item;
      }),
    );
  }

  function treeItem(node: TreeNode): HTMLLIElement {
    const item = element('li', { role: 'treeitem' });
    const row = element('button', { type: 'button', class: 'row', 'data-path': node.path });
    const hasChildren = node.children.size > 0;
    row.append(
      element('span', { class: `mark ${node.mark ?? ''}`, 'aria-hidden': 'true' }, node.mark ? markSymbols[node.mark] : hasChildren ? '▸' : ''),
      element('span', { class: `name ${node.mark ?? ''}` }, `${visible(node.name)}${hasChildren ? '/' : ''}`),
      // A folder shows what changed below it; a file (or a deletion) what it is.
      element('span', { class: 'size' }, hasChildren ? formatSize(node.sizeBytes) : (node.detail ?? formatSize(node.sizeBytes))),
    );
    // The mark's symbol is hidden from screen readers; its word is read instead (and kept in the name, so what is seen is what is said).
    if (node.mark) {
      row.dataset.mark = node.mark;
      row.querySelector('.name')!.append(element('span', { class: 'visually-hidden' }, ` (${node.mark})`));
    }
    item.append(row);
    if (hasChildren) {
      item.setAttribute('aria-expanded', 'false');
      // Children are drawn when opened: a layer can hold tens of thousands of files.
      row.addEventListener('click', () => {
        const isOpen = item.getAttribute('aria-expanded') === 'true';
        item.setAttribute('aria-expanded', String(!isOpen));
        row.querySelector('.mark')!.textContent = node.mark ? markSymbols[node.mark] : isOpen ? '▸' : '▾';
        if (isOpen) item.querySelector(':scope > ul')?.remove();
        else item.append(treeGroup(node));
        if (node.mark) showCopies(node.path);
      });
    } else {
      row.addEventListener('click', () => showCopies(node.path));
    }
    return item;
  }

  function treeGroup(node: TreeNode): HTMLUListElement {
    const group = element('ul', { role: 'group' });
    group.append(...biggestFirst(node.children).map(treeItem));
    return group;
  }

  function selectLayer(index: number): void {
    if (!report) return;
    selectedLayer = index;
    for (const button of layersList.querySelectorAll('button')) button.setAttribute('aria-pressed', String(button.dataset.layer === String(index)));
    const layer = report.layers[index]!;
    filesHeading.textContent = `Files of layer #${index}`;
    const top = layerTree(layer);
    if (layer.unreadable) tree.replaceChildren(element('li', {}, `Its files could not be read: ${layer.unreadable}`));
    else if (!top.children.size) tree.replaceChildren(element('li', { class: 'hint' }, 'No file changes: this step changed only the image config.'));
    else tree.replaceChildren(...biggestFirst(top.children).map(treeItem));
  }

  function showCopies(path: string): void {
    if (!report) return;
    copiesHint.textContent = `Layers that write or delete ${visible(path)}:`;
    const found: HTMLLIElement[] = [];
    for (const layer of report.layers) {
      const written = layer.added.find((file) => file.path === path) ?? layer.changed.find((file) => file.path === path);
      const removed = layer.removed.find((removal) => removal.path === path || path.startsWith(`${removal.path}/`));
      if (!written && !removed) continue;
      const item = element('li', { 'data-copy-layer': String(layer.index) });
      item.append(
        element('strong', {}, `#${layer.index} `),
        element('span', {}, written ? `${written.type === 'file' ? formatSize(written.sizeBytes) : written.type} copy` : removed!.how === 'opaque-folder' ? 'hidden by an opaque folder' : 'deleted (whiteout)'),
        element('div', { class: 'meta' }, visible(layer.instruction)),
      );
      found.push(item);
    }
    copies.replaceChildren(...found);
  }

  async function showImage(ref: string, reason?: string): Promise<void> {
    say(`Reading ${ref}…`);
    try {
      report = await getJson<InspectReport>(`/api/inspect/image?ref=${encodeURIComponent(ref)}`);
    } catch (error) {
      say(`Could not read ${ref}: ${(error as Error).message}`);
      return;
    }
    shownId = report.id;
    selectedLayer = report.layers.length - 1;
    renderLedger(report);
    renderLayers(report);
    selectLayer(selectedLayer);
    copies.replaceChildren();
    copiesHint.textContent = 'Pick a file to see which layers hold a copy of it.';
    columns.hidden = false;
    say(`${reason ?? 'Showing'} ${ref}: ${report.layers.length} layers, ${formatSize(report.sizeBytes)}.`);
    const url = new URL(location.href);
    url.searchParams.set('image', ref);
    history.replaceState(null, '', url);
  }

  async function refreshImages(isFirst: boolean): Promise<void> {
    let listed: SandboxImageSummary[];
    try {
      listed = (await getJson<{ images: SandboxImageSummary[] }>('/api/inspect/images')).images;
    } catch (error) {
      if (isFirst) say(`Could not list the sandbox's images: ${(error as Error).message}`);
      return;
    }
    const chosen = picker.value;
    const isSame = listed.length === images.length && listed.every((image, index) => image.id === images[index]?.id && image.tags.join() === images[index]?.tags.join());
    images = listed;
    if (!isSame) {
      picker.replaceChildren(
        ...listed.flatMap((image) => (image.tags.length ? image.tags : [image.id]).map((ref) => element('option', { value: ref }, visible(imageLabel({ ...image, tags: image.tags.length ? [ref] : [] }))))),
      );
    }
    const wanted = isFirst ? new URL(location.href).searchParams.get('image') ?? listed.find((image) => image.tags.length)?.tags[0] : chosen;
    if (wanted) picker.value = wanted;
    if (!picker.value) return;
    const current = listed.find((image) => image.tags.includes(picker.value) || image.id === picker.value);
    if (isFirst) await showImage(picker.value);
    else if (current && current.id !== shownId) await showImage(picker.value, 'Rebuilt: showing the new');
  }

  picker.addEventListener('change', () => void showImage(picker.value));

  void (async () => {
    const runner = await findRunner();
    if (!runner.isPresent) {
      picker.replaceChildren(element('option', { value: '' }, 'No runner'));
      picker.disabled = true;
      say('The explorer reads your sandbox through the runner: start it with `course start`, then reload this page.');
      return;
    }
    await refreshImages(true);
    setInterval(() => void refreshImages(false), refreshMs);
  })();
}
