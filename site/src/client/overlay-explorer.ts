import type { OverlayReport, SandboxContainerSummary, UpperEntry } from '../../../runner/src/contract/inspect';
import { formatSize } from '../../../runner/src/contract/size';
import { element, requestJson, shortDigest, visible } from './explorer-dom';
import { findRunner } from './runner';

/** How often the view asks again: the learner edits files in the container from the terminal. */
const refreshMs = 3000;

const kindWords: Record<UpperEntry['kind'], string> = {
  'copied-up': 'copied up',
  created: 'created',
  whiteout: 'whiteout',
  'opaque-folder': 'opaque folder',
  folder: 'folder',
};

export interface OverlayExplorerOptions {
  /** A fixed container (the lesson's); without it the view has a picker of the sandbox's containers. */
  container?: string;
  /** The heading level of the view's own headings. */
  headingLevel?: 2 | 3;
  /** `waiting`: a container that does not exist yet is expected (the lesson makes it later). */
  notFound?: 'error' | 'waiting';
}

/**
 * The overlay2 explorer: a container's mount as the kernel sees it (lower folders, each matched
 * to its image layer; the upper folder's copy-ups, whiteouts and opaque folders; the merged
 * view at every changed path), asked again every few seconds while the page is visible.
 */
export function startOverlayExplorer(root: HTMLElement, options: OverlayExplorerOptions = {}): void {
  const heading = (text: string) => element(options.headingLevel === 3 ? 'h3' : 'h2', {}, text);
  const status = element('p', { class: 'status', role: 'status', 'data-overlay-status': '' });
  const view = element('div', { class: 'overlay-view', 'data-overlay-view': '' });
  view.hidden = true;
  let picker: HTMLSelectElement | undefined;
  if (!options.container) {
    const label = element('label', { class: 'picker' }, 'Container ');
    picker = element('select', { 'data-container-picker': '', 'aria-describedby': 'overlay-status' });
    status.id = 'overlay-status';
    picker.append(element('option', { value: '' }, 'Loading the sandbox\'s containers…'));
    label.append(picker);
    root.append(label);
  }
  root.append(status, view);

  let shownJson = '';
  let containers: SandboxContainerSummary[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const say = (text: string) => (status.textContent = text);
  const chosen = () => options.container ?? picker?.value ?? '';

  function render(report: OverlayReport): void {
    const { container } = report;
    const mount = element('section', { 'data-overlay-mount': '' });
    mount.append(heading('The mount'));
    mount.append(
      element('p', {}, report.mount
        ? `The kernel mounts ${visible(container.name)}'s root at the merged folder (from /proc/self/mountinfo in the sandbox):`
        : `${visible(container.name)} is not running, so nothing is mounted; its upper folder stays on disk and is shown below.`),
    );
    if (report.mount) mount.append(element('pre', { class: 'mount-line', tabindex: '0', 'aria-label': 'The overlay mount and its options' }, [`overlay on ${report.mount.mergedDir}`, ...report.mount.options.split(',')].map(visible).join('\n')));

    const folders = element('section', { 'data-overlay-folders': '' });
    folders.append(heading('Folders, top to bottom'), element('p', { class: 'hint' }, 'overlayfs looks for each path from the top; the first folder that has it wins.'));
    const table = element('table', { class: 'folders' });
    const head = element('tr');
    head.append(element('th', { scope: 'col' }, 'Role'), element('th', { scope: 'col' }, 'Folder'), element('th', { scope: 'col' }, 'What it is'));
    table.append(element('thead'), element('tbody'));
    table.tHead!.append(head);
    const row = (role: string, dir: string, what: string, attributes: Record<string, string> = {}) => {
      const tr = element('tr', attributes);
      tr.append(element('th', { scope: 'row' }, role), element('td', { class: 'path' }, visible(dir)), element('td', {}, what));
      table.tBodies[0]!.append(tr);
    };
    row('merged', report.mergedDir, 'what the container sees: the union of the folders below');
    row('upper', report.upperDir, 'the container\'s own changes (read-write)');
    report.lowers.forEach((lower, index) => {
      const what =
        lower.role === 'init'
          ? 'init layer: /etc/hosts, /etc/resolv.conf… written by Docker for each container'
          : lower.role === 'image-layer'
            ? `image layer #${lower.layerIndex} (diff ID ${shortDigest(lower.diffId)}): ${visible(lower.instruction ?? '')}`
            : 'not a layer of this image';
      row(`lower ${index + 1}`, `${lower.link ? `${lower.link} → ` : ''}${lower.dir}`, what, { 'data-lower': String(index), 'data-role': lower.role, ...(lower.layerIndex !== undefined ? { 'data-layer-index': String(lower.layerIndex) } : {}) });
    });
    row('work', report.workDir, 'overlayfs\'s scratch space');
    folders.append(table);

    const upper = element('section', { 'data-overlay-upper': '' });
    upper.append(heading(`The upper folder: ${report.upper.length} ${report.upper.length === 1 ? 'entry' : 'entries'}${report.isTruncated ? ' (cut short)' : ''}`));
    if (!report.upper.length) upper.append(element('p', { class: 'hint' }, 'Empty: the container has changed nothing yet. Write or delete a file in it and watch this list.'));
    else {
      const list = element('ul', { class: 'upper' });
      for (const entry of report.upper) {
        const item = element('li', { 'data-upper-path': entry.path, 'data-kind': entry.kind });
        const device = entry.device ? ` ${entry.device.major}/${entry.device.minor}` : '';
        const size = entry.type === 'file' ? `, ${formatSize(entry.sizeBytes)}` : '';
        const over = entry.hides ? `, over lower ${entry.hides.lower + 1}${layerOf(report, entry.hides.lower)} (${entry.hides.type === 'file' ? formatSize(entry.hides.sizeBytes) : entry.hides.type})` : '';
        item.append(element('span', { class: `kind ${entry.kind}` }, kindWords[entry.kind]), ' ', element('code', {}, visible(entry.path)), element('span', { class: 'meta' }, ` (${entry.type}${device}${size}${over})`));
        list.append(item);
      }
      upper.append(list);
    }

    const merged = element('section', { 'data-overlay-merged': '' });
    merged.append(heading('The merged view at each changed path'));
    const seen = report.upper.filter((entry) => entry.kind !== 'folder');
    if (!seen.length) merged.append(element('p', { class: 'hint' }, 'Every path shows what the image\'s layers hold: nothing of the upper folder is in the way.'));
    else {
      const list = element('ul', { class: 'merged' });
      for (const entry of seen) list.append(element('li', { 'data-merged-path': entry.path }, `${visible(entry.path)}: ${mergedWords(report, entry)}`));
      merged.append(list);
    }
    view.replaceChildren(mount, folders, upper, merged);
    view.hidden = false;
  }

  async function refresh(reason: 'first' | 'pick' | 'poll'): Promise<void> {
    if (picker) {
      try {
        const listed = (await requestJson<{ containers: SandboxContainerSummary[] }>('/api/inspect/containers')).containers;
        const same = listed.length === containers.length && listed.every((container, index) => container.id === containers[index]?.id && container.state === containers[index]?.state);
        containers = listed;
        if (!same) {
          const before = picker.value || new URL(location.href).searchParams.get('container') || '';
          picker.replaceChildren(
            element('option', { value: '' }, listed.length ? 'Pick a container' : 'No containers yet: `docker run -d --name NAME IMAGE …` in the terminal'),
            ...listed.map((container) => element('option', { value: container.name }, visible(`${container.name} (${container.image}, ${container.state})`))),
          );
          if (listed.some((container) => container.name === before)) picker.value = before;
        }
      } catch (error) {
        if (reason !== 'poll') say(`Could not list the sandbox's containers: ${(error as Error).message}`);
      }
    }
    const name = chosen();
    if (!name) {
      view.hidden = true;
      shownJson = '';
      if (reason !== 'poll' && picker) say('Pick a container to see its overlay2 mount.');
      return;
    }
    try {
      const report = await requestJson<OverlayReport>(`/api/inspect/container?name=${encodeURIComponent(name)}`);
      const json = JSON.stringify(report);
      if (json !== shownJson) {
        const isChange = shownJson !== '' && reason === 'poll';
        shownJson = json;
        render(report);
        say(`${isChange ? 'Changed: showing' : 'Showing'} ${visible(report.container.name)}: ${report.lowers.length} lower folders, ${report.upper.length} upper entries${report.container.isRunning ? '' : ' (not running)'}.`);
      }
    } catch (error) {
      shownJson = '';
      view.hidden = true;
      const message = (error as Error).message;
      if (options.notFound === 'waiting' && message.startsWith('There is no container')) say(`There is no container ${visible(name)} in your sandbox yet: it shows here as soon as the lesson's \`docker run\` makes it.`);
      else say(`Could not read ${visible(name)}: ${message}`);
    }
  }

  // Asks only while the view is on screen and the tab is visible: each answer runs a probe in the sandbox.
  let isOnScreen = true;
  if ('IntersectionObserver' in window) {
    new IntersectionObserver((entries) => {
      const wasOnScreen = isOnScreen;
      isOnScreen = entries.some((entry) => entry.isIntersecting);
      if (isOnScreen && !wasOnScreen && isStarted) void refresh('poll'); // back in view: show what changed meanwhile
    }).observe(root);
  }
  let isStarted = false;

  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        if (document.visibilityState === 'visible' && isOnScreen) await refresh('poll');
      } finally {
        schedule();
      }
    }, refreshMs);
  }

  picker?.addEventListener('change', () => {
    shownJson = '';
    const url = new URL(location.href);
    if (picker!.value) url.searchParams.set('container', picker!.value);
    else url.searchParams.delete('container');
    history.replaceState(null, '', url);
    void refresh('pick');
  });

  void (async () => {
    const runner = await findRunner();
    if (!runner.isPresent) {
      if (picker) {
        picker.replaceChildren(element('option', { value: '' }, 'No runner'));
        picker.disabled = true;
      }
      say('The overlay2 view reads your sandbox through the runner: start it with `course start`, then reload this page.');
      return;
    }
    await refresh('first');
    isStarted = true;
    schedule();
  })();
}

function layerOf(report: OverlayReport, lower: number): string {
  const found = report.lowers[lower];
  return found?.role === 'image-layer' ? `, image layer #${found.layerIndex}` : found?.role === 'init' ? ', the init layer' : '';
}

/** What the container sees at a path the upper folder holds. */
function mergedWords(report: OverlayReport, entry: UpperEntry): string {
  switch (entry.kind) {
    case 'whiteout':
      return entry.hides ? `gone: the whiteout hides the ${entry.hides.type} of lower ${entry.hides.lower + 1}${layerOf(report, entry.hides.lower)}` : 'gone (nothing below had it)';
    case 'copied-up':
      return `the upper folder's copy${entry.type === 'file' ? ` (${formatSize(entry.sizeBytes)})` : ''}; lower ${entry.hides!.lower + 1}'s version is hidden`;
    case 'opaque-folder':
      return 'only what the upper folder holds: nothing of the lower folders shows through';
    case 'created':
      return `new: only the upper folder has it${entry.type === 'file' ? ` (${formatSize(entry.sizeBytes)})` : ''}`;
    default:
      return 'the upper and lower folders merged';
  }
}
