import {
  classEventTypes,
  classPaths,
  type ClassChangedEvent,
  type ClassDashboard,
  type ClassErrorBody,
  type DashboardCell,
  type DashboardExercise,
  type DashboardLearner,
  type LearnerHistory,
} from '../../../runner/src/contract/class';
import { formatSize as formatBytes } from '../../../runner/src/contract/size';

/**
 * The class dashboard: reads the class from the class server and redraws when the server
 * says something changed (server-sent events), so it stays live without a reload.
 * Everything learners sent (names, image names, build tools) is set as text, never as markup.
 */
export function startClassDashboard(root: HTMLElement): void {
  const live = document.querySelector<HTMLElement>('[data-live]');
  const liveText = document.querySelector<HTMLElement>('[data-live-text]');
  const problem = root.querySelector<HTMLElement>('[data-problem]')!;
  let shownRevision = -1;
  let isLoading = false;
  let isReloadWanted = false;
  let selectedLearner: number | undefined;

  const setLive = (state: 'connecting' | 'live' | 'offline', text: string) => {
    if (live) live.dataset.state = state;
    if (liveText) liveText.textContent = text;
  };

  const showProblem = (text: string | undefined) => {
    problem.hidden = text === undefined;
    problem.textContent = text ?? '';
  };

  async function reload(): Promise<void> {
    if (isLoading) {
      isReloadWanted = true;
      return;
    }
    isLoading = true;
    try {
      do {
        isReloadWanted = false;
        const dashboard = await readJson<ClassDashboard>(classPaths.apiDashboard);
        render(root, dashboard, selectedLearner, showHistory);
        shownRevision = dashboard.revision;
        root.dataset.revision = String(dashboard.revision);
        if (selectedLearner !== undefined) await showHistory(selectedLearner, false);
      } while (isReloadWanted);
      showProblem(undefined);
    } catch (error) {
      showProblem((error as Error).message);
    } finally {
      isLoading = false;
    }
  }

  async function showHistory(learnerId: number, moveFocus = true): Promise<void> {
    selectedLearner = learnerId;
    for (const row of root.querySelectorAll<HTMLElement>('[data-learner-row]')) row.classList.toggle('selected', row.dataset.learnerRow === String(learnerId));
    const history = await readJson<LearnerHistory>(`${classPaths.apiLearners}${learnerId}/history`);
    renderHistory(root, history);
    if (moveFocus) root.querySelector<HTMLElement>('[data-history-heading]')?.focus();
  }

  const events = new EventSource(classPaths.apiEvents);
  events.addEventListener('open', () => setLive('live', 'Live'));
  events.addEventListener('error', () => setLive('offline', 'Reconnecting…'));
  events.addEventListener(classEventTypes.changed, (event) => {
    setLive('live', 'Live');
    const { revision } = JSON.parse((event as MessageEvent<string>).data) as ClassChangedEvent;
    if (revision !== shownRevision) void reload();
  });
  void reload();
}

async function readJson<T>(address: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(address, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new Error('The class server does not answer. Is `course class serve` still running?');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as ClassErrorBody | undefined;
    throw new Error(body?.error ? `${body.error.message} ${body.error.nextStep}` : `The class server answered ${response.status}.`);
  }
  return (await response.json()) as T;
}

function render(root: HTMLElement, dashboard: ClassDashboard, selectedLearner: number | undefined, onChoose: (learnerId: number) => Promise<void>): void {
  const learners = dashboard.learners;
  const passedCells = learners.reduce((sum, learner) => sum + Object.values(learner.cells).filter((cell) => cell.passed).length, 0);
  root.querySelector('[data-summary]')!.textContent =
    `${learners.length} ${learners.length === 1 ? 'learner' : 'learners'}, ${passedCells} ${passedCells === 1 ? 'exercise' : 'exercises'} passed in all. ` +
    `Updated ${new Date(dashboard.generatedAt).toLocaleTimeString()}.`;

  const cards = root.querySelector<HTMLElement>('[data-exercises]')!;
  cards.replaceChildren(...dashboard.exercises.map((exercise) => exerciseCard(exercise, learners)));

  const head = root.querySelector<HTMLElement>('[data-roster-head]')!;
  head.replaceChildren(
    element('th', { scope: 'col' }, 'Learner'),
    ...dashboard.exercises.map((exercise) => element('th', { scope: 'col', title: exercise.title }, exercise.id)),
  );
  const body = root.querySelector<HTMLElement>('[data-roster-body]')!;
  const fragment = document.createDocumentFragment();
  for (const learner of learners) {
    const button = element('button', { type: 'button', class: 'learner-button' }, learner.name);
    button.addEventListener('click', () => void onChoose(learner.id));
    const nameCell = element('th', { scope: 'row' }, button);
    if (learner.via === 'ci') nameCell.append(element('span', { class: 'via' }, 'CI'));
    const row = element('tr', { 'data-learner-row': String(learner.id), 'data-learner-name': learner.name }, nameCell);
    if (learner.id === selectedLearner) row.classList.add('selected');
    for (const exercise of dashboard.exercises) row.append(rosterCell(learner.cells[exercise.id], exercise.id));
    fragment.append(row);
  }
  body.replaceChildren(fragment);
  if (!learners.length) body.append(element('tr', {}, element('td', { colspan: String(dashboard.exercises.length + 1) }, 'Nobody has joined yet. Learners run the `course join` command that `course class serve` printed.')));
}

function rosterCell(cell: DashboardCell | undefined, exercise: string): HTMLElement {
  if (!cell) return element('td', { class: 'cell-none', 'data-exercise': exercise, 'data-status': 'not-started' }, '·');
  const details = [`${cell.attempts} ${cell.attempts === 1 ? 'attempt' : 'attempts'}`];
  if (cell.timeToPassMs !== null) details.push(`passed in ${formatDuration(cell.timeToPassMs)}`);
  const td = element(
    'td',
    {
      class: cell.passed ? 'cell-pass' : 'cell-fail',
      'data-exercise': exercise,
      'data-status': cell.passed ? 'passed' : 'failing',
      title: `Last attempt ${dateTime.format(Date.parse(cell.lastAttemptAt))}${cell.bestSizeBytes !== null ? `; best image ${formatBytes(cell.bestSizeBytes)}` : ''}${cell.bestLayers !== null ? `, ${cell.bestLayers} layers` : ''}`,
    },
    cell.passed ? '✓ passed' : '✗ not yet',
    element('span', { class: 'cell-detail' }, details.join(', ')),
    element('span', { class: 'cell-detail' }, `last ${formatAgo(cell.lastAttemptAt)}`),
  );
  return td;
}

function exerciseCard(exercise: DashboardExercise, learners: readonly DashboardLearner[]): HTMLElement {
  const latest = learners.map((learner) => learner.cells[exercise.id]).filter((cell): cell is DashboardCell => cell !== undefined);
  const sizes = latest.map((cell) => cell.latestSizeBytes).filter((value): value is number => value !== null);
  const layers = latest.map((cell) => cell.latestLayers).filter((value): value is number => value !== null);
  const card = element(
    'article',
    { class: 'exercise-card', 'data-exercise-card': exercise.id },
    element('h3', {}, `${exercise.id}: ${exercise.title}`),
    element('p', { class: 'passed-count', 'data-passed-count': '' }, `${exercise.learnersPassed} of ${learners.length} passed, ${exercise.learnersAttempted} tried`),
  );
  if (sizes.length) {
    card.append(
      histogram(sizes, exercise.reference?.sizeBytes, formatBytes, `Image size: ${sizes.length} latest ${sizes.length === 1 ? 'image' : 'images'}${exercise.reference ? `; reference ${formatBytes(exercise.reference.sizeBytes)}` : ''}`),
    );
  }
  if (layers.length) {
    card.append(histogram(layers, exercise.reference?.layers, (value) => `${Math.round(value)}`, `Layers${exercise.reference ? `; reference ${exercise.reference.layers}` : ''}`, true));
  }
  if (!sizes.length && !layers.length) card.append(element('p', { class: 'section-note' }, 'No images yet.'));
  if (exercise.mostCommonFailure) {
    const failure = exercise.mostCommonFailure;
    card.append(
      element(
        'p',
        { class: 'failure', 'data-common-failure': failure.checkId },
        element('strong', {}, `Most often failed: ${failure.title}`),
        ` (${failure.learners} ${failure.learners === 1 ? 'learner' : 'learners'})`,
        ...(failure.hint ? [element('span', { class: 'hint' }, `Hint: ${failure.hint}`)] : []),
      ),
    );
  }
  return card;
}

/** One formatter for every date on the page: creating one per cell is what makes 2,000 cells slow. */
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

const svgNamespace = 'http://www.w3.org/2000/svg';

/** Bars of how many learners fall in each range; a vertical line at the reference. */
function histogram(values: readonly number[], reference: number | undefined, format: (value: number) => string, caption: string, isInteger = false): HTMLElement {
  const width = 300;
  const height = 64;
  const axis = 12;
  const low = Math.min(...values, reference ?? Infinity);
  const high = Math.max(...values, reference ?? -Infinity);
  const binCount = isInteger ? Math.min(30, high - low + 1) : high === low ? 1 : 12;
  const binWidth = isInteger ? Math.max(1, (high - low + 1) / binCount) : (high - low) / binCount || 1;
  const counts = new Array<number>(binCount).fill(0);
  for (const value of values) counts[Math.min(binCount - 1, Math.floor((value - low) / binWidth))]!++;
  const tallest = Math.max(...counts);
  const span = isInteger ? high - low + 1 : high - low || 1;
  const xOf = (value: number) => ((value - low) / span) * width;

  const svg = document.createElementNS(svgNamespace, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height + axis}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${caption}. ${counts.map((count, index) => `${format(low + index * binWidth)}: ${count}`).join(', ')}`);
  counts.forEach((count, index) => {
    if (!count) return;
    const bar = document.createElementNS(svgNamespace, 'rect');
    const barHeight = (count / tallest) * (height - 4);
    bar.setAttribute('class', 'bar');
    bar.setAttribute('x', String((index / binCount) * width + 1));
    bar.setAttribute('y', String(height - barHeight));
    bar.setAttribute('width', String(Math.max(1, width / binCount - 2)));
    bar.setAttribute('height', String(barHeight));
    const title = document.createElementNS(svgNamespace, 'title');
    title.textContent = `${count} ${count === 1 ? 'learner' : 'learners'}: ${format(low + index * binWidth)}${isInteger && binWidth === 1 ? '' : ` to ${format(low + (index + 1) * binWidth)}`}`;
    bar.append(title);
    svg.append(bar);
  });
  if (reference !== undefined) {
    const x = Math.min(width - 1, Math.max(1, xOf(reference) + (isInteger ? width / binCount / 2 : 0)));
    const line = document.createElementNS(svgNamespace, 'line');
    line.setAttribute('class', 'reference');
    line.setAttribute('x1', String(x));
    line.setAttribute('x2', String(x));
    line.setAttribute('y1', '0');
    line.setAttribute('y2', String(height));
    svg.append(line);
  }
  for (const [value, anchor] of [
    [low, 'start'],
    [high, 'end'],
  ] as const) {
    const label = document.createElementNS(svgNamespace, 'text');
    label.setAttribute('class', 'axis');
    label.setAttribute('x', anchor === 'start' ? '0' : String(width));
    label.setAttribute('y', String(height + axis - 2));
    label.setAttribute('text-anchor', anchor);
    label.textContent = format(value);
    svg.append(label);
  }
  return element('figure', {}, svg, element('figcaption', {}, caption));
}

function renderHistory(root: HTMLElement, history: LearnerHistory): void {
  const section = root.querySelector<HTMLElement>('[data-history]')!;
  section.hidden = false;
  root.querySelector('[data-history-heading]')!.textContent = `History of ${history.learner.name} (${history.attempts.length} ${history.attempts.length === 1 ? 'attempt' : 'attempts'})`;
  const body = root.querySelector<HTMLElement>('[data-history-body]')!;
  body.replaceChildren(
    ...history.attempts.map((attempt) => {
      const failed = attempt.checks.filter((check) => check.status === 'fail').map((check) => `${check.id}${check.isAdvisory ? ' (advice)' : ''}`);
      return element(
        'tr',
        { 'data-submission': attempt.submissionId },
        element('td', { title: `received ${dateTime.format(Date.parse(attempt.receivedAt))}` }, dateTime.format(Date.parse(attempt.checkedAt))),
        element('td', {}, attempt.exercise),
        element('td', { class: attempt.passed ? 'pass' : 'fail' }, attempt.passed ? 'passed' : 'failed'),
        element('td', {}, attempt.image),
        element('td', {}, attempt.sizeBytes === null ? '–' : formatBytes(attempt.sizeBytes)),
        element('td', {}, attempt.layers === null ? '–' : String(attempt.layers)),
        element('td', {}, attempt.buildTools.join(', ') || 'none'),
        element('td', {}, failed.join(', ') || '–'),
      );
    }),
  );
}

function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

function formatAgo(iso: string): string {
  const ms = Date.now() - Date.parse(iso);
  if (ms < 60_000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
