import { checkPath, formatSize, lessonStatusLabels, type CheckResult, type CheckRun, type CheckStreamEvent, type EvidenceGroup, type InspectReport, type LayerSummary } from '../../../runner/src/contract';
import { setStatusPill } from './progress';
import { findRunner } from './runner';
import { authHeaders } from './runner-token';

const layerColors = ['#7c3aed', '#2563eb', '#0f766e', '#a16207', '#be185d', '#4d7c0f', '#0369a1', '#6d28d9'];
/** Items of a long finding shown before "Show all". */
const itemsShownFirst = 4;

export function setUpCheckPanel(panel: HTMLElement): void {
  const exercise = panel.dataset.exercise!;
  const button = panel.querySelector<HTMLButtonElement>('[data-check-button]')!;
  const label = panel.querySelector<HTMLElement>('[data-check-label]')!;
  const status = panel.querySelector<HTMLElement>('[data-check-status]')!;
  const errorLine = panel.querySelector<HTMLElement>('[data-check-error]')!;
  const results = panel.querySelector<HTMLElement>('[data-check-results]')!;
  const phases = new PhaseList(panel.querySelector<HTMLOListElement>('[data-check-phases]')!);
  let isRunning = false;

  button.addEventListener('click', async () => {
    if (isRunning) return;
    errorLine.hidden = true;
    const runner = await findRunner();
    if (!runner.isPresent) {
      panel.querySelector<HTMLElement>('[data-check-offline]')!.hidden = false;
      // The box above says it; the status line only announces it to screen readers.
      status.classList.add('visually-hidden');
      status.textContent = `No runner is connected. Run course check ${exercise} in a terminal instead.`;
      return;
    }
    isRunning = true;
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    label.textContent = 'Checking…';
    status.textContent = 'Checking your image…';
    phases.start();
    try {
      await runCheck(exercise, (event) => {
        if (event.type === 'progress') {
          phases.enter(event.text, event.elapsedMs);
          status.textContent = `${event.text}…`;
        } else if (event.type === 'error') {
          phases.finish(false);
          status.textContent = 'The check could not run.';
          errorLine.hidden = false;
          errorLine.textContent = `${event.message} ${event.nextStep}`;
        } else {
          phases.finish(true, event.run.durationMs);
          showResults(results, event.run);
          status.textContent = summarize(event.run, event.lessonComplete, event.isNewlyComplete);
          const pill = document.querySelector<HTMLElement>('[data-lesson-status]');
          if (pill) setStatusPill(pill, event.lessonComplete ? 'complete' : 'incomplete', lessonStatusLabels[event.lessonComplete ? 'complete' : 'checked']);
          document.dispatchEvent(new CustomEvent('layerlab:checked', { detail: { passed: event.run.passed } }));
        }
      });
    } catch (error) {
      phases.finish(false);
      status.textContent = 'The check could not run.';
      errorLine.hidden = false;
      errorLine.textContent = `Lost the connection to the runner (${error instanceof Error ? error.message : String(error)}). Check that \`course start\` is still running, then try again.`;
    } finally {
      isRunning = false;
      button.removeAttribute('aria-busy');
      button.disabled = false;
      label.textContent = 'Check again';
    }
  });
}

/**
 * The check's phases as they happen: each finished one with how long it took, the current
 * one with a running clock, so a slow step (starting a container, a rebuild) says what it
 * waits for. The clock is drawn, not announced; the status line announces each new phase.
 */
class PhaseList {
  readonly #list: HTMLOListElement;
  #current: { item: HTMLLIElement; time: HTMLElement; startedAt: number } | undefined;
  #timer: number | undefined;
  #requestStart = 0;

  constructor(list: HTMLOListElement) {
    this.#list = list;
  }

  start(): void {
    this.#list.replaceChildren();
    this.#list.hidden = false;
    this.#requestStart = performance.now();
    this.#current = undefined;
  }

  /** A new phase began `elapsedMs` after the request (the runner's clock). */
  enter(text: string, elapsedMs: number): void {
    const now = this.#requestStart + elapsedMs;
    this.#close(now);
    const time = element('span', { class: 'phase-time' });
    const item = element('li', { class: 'is-current' }, element('span', { class: 'phase-text' }, text), time);
    this.#list.append(item);
    this.#current = { item, time, startedAt: Math.min(now, performance.now()) };
    window.clearInterval(this.#timer);
    const tick = () => {
      if (this.#current) this.#current.time.textContent = formatSeconds(performance.now() - this.#current.startedAt);
    };
    tick();
    this.#timer = window.setInterval(tick, 100);
  }

  finish(isDone: boolean, totalMs?: number): void {
    window.clearInterval(this.#timer);
    this.#close(performance.now(), isDone);
    if (totalMs !== undefined) this.#list.append(element('li', { class: 'phase-total' }, `Done in ${formatSeconds(totalMs)}`));
  }

  #close(at: number, isDone = true): void {
    if (!this.#current) return;
    const { item, time, startedAt } = this.#current;
    item.className = isDone ? 'is-done' : 'is-stopped';
    time.textContent = formatSeconds(Math.max(0, at - startedAt));
    this.#current = undefined;
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function runCheck(exercise: string, onEvent: (event: CheckStreamEvent) => void): Promise<void> {
  const response = await fetch(checkPath(exercise), { method: 'POST', cache: 'no-store', headers: authHeaders() });
  if (!response.ok || !response.body) {
    const problem = `the runner answered ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { message: string; nextStep: string } };
      if (body.error) return onEvent({ type: 'error', message: body.error.message, nextStep: body.error.nextStep });
    } catch {
      // Not JSON: report the status alone.
    }
    throw new Error(problem);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) pending += value;
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim()) onEvent(JSON.parse(line) as CheckStreamEvent);
    }
    if (done) return;
  }
}

/** Required checks decide the lesson; advice never does. Counted apart so advice never reads as failure. */
function tally(run: CheckRun): { required: CheckResult[]; passing: number; advice: CheckResult[] } {
  const required = run.checks.filter((check) => !check.isAdvisory);
  return {
    required,
    passing: required.filter((check) => check.passed).length,
    advice: run.checks.filter((check) => check.isAdvisory && check.status === 'fail'),
  };
}

/** "4 of 4 required checks pass · 1 piece of advice" */
export function summaryLine(run: CheckRun): string {
  const { required, passing, advice } = tally(run);
  const checks = `${passing} of ${required.length} required ${required.length === 1 ? 'check passes' : 'checks pass'}`;
  if (!advice.length) return checks;
  return `${checks} · ${advice.length} ${advice.length === 1 ? 'piece' : 'pieces'} of advice`;
}

function summarize(run: CheckRun, lessonComplete: boolean, isNewlyComplete: boolean): string {
  const outcome = `Check finished: ${summaryLine(run)}.`;
  if (run.passed) return `${outcome} ${isNewlyComplete ? 'Lesson complete. Well done!' : lessonComplete ? 'This lesson is complete.' : ''}`.trim();
  return `${outcome} The failing checks below say what to change.`;
}

function showResults(container: HTMLElement, run: CheckRun): void {
  container.hidden = false;
  const summary = container.querySelector<HTMLElement>('[data-check-summary]')!;
  summary.textContent = summaryLine(run);
  summary.classList.toggle('is-passed', run.passed);
  const required = run.checks.filter((check) => !check.isAdvisory);
  const advisory = run.checks.filter((check) => check.isAdvisory);
  container.querySelector<HTMLElement>('[data-check-list]')!.replaceChildren(...required.map(renderCheck));
  const adviceSection = container.querySelector<HTMLElement>('[data-advice]')!;
  adviceSection.hidden = advisory.length === 0;
  adviceSection.querySelector<HTMLElement>('[data-advice-list]')!.replaceChildren(...advisory.map(renderCheck));
  showLayers(container.querySelector<HTMLElement>('[data-layer-chart]')!, run);
  void showLedger(container.querySelector<HTMLElement>('[data-layer-ledger]')!, run);
}

/** The size ledger of the image explorer, in one line under the layer picture, with a link to the explorer. */
async function showLedger(line: HTMLElement, run: CheckRun): Promise<void> {
  line.hidden = true;
  const ref = run.imageId ?? run.image;
  if (!ref) return;
  try {
    const response = await fetch(`/api/inspect/image?ref=${encodeURIComponent(ref)}`, { cache: 'no-store', headers: { Accept: 'application/json', ...authHeaders() } });
    if (!response.ok) return;
    const { ledger } = (await response.json()) as InspectReport;
    const base = ledger.base.how === 'image' ? 'from the base image' : 'in the first layer';
    line.replaceChildren(
      `${formatSize(ledger.baseBytes)} ${base} · ${formatSize(ledger.ownBytes)} from your steps · ${formatSize(ledger.hiddenBytes)} hidden by later layers · dive: ${formatSize(ledger.wastedBytes)} wasted, efficiency ${(ledger.efficiency * 100).toFixed(2)} % · `,
      element('a', { href: `/inspect/?image=${encodeURIComponent(run.image)}` }, 'See inside'),
    );
    line.hidden = false;
  } catch {
    // The ledger is extra: without it the picture above still says what the check found.
  }
}

function renderCheck(check: CheckResult): HTMLLIElement {
  const state = check.status === 'skip' ? 'skip' : check.passed ? 'pass' : check.isAdvisory ? 'advice' : 'fail';
  const item = element('li', { class: `is-${state}`, 'data-check-id': check.id });
  const marks = { pass: '✓', fail: '✗', advice: 'i', skip: '–' };
  const words = { pass: 'Pass', fail: 'Fail', advice: 'Advice', skip: 'Not checked' };
  const mark = element('span', { class: 'mark', 'aria-hidden': 'true' }, marks[state]);
  const title = element('span', { class: 'check-title' }, element('span', { class: 'visually-hidden' }, `${words[state]}: `), check.title);
  item.append(mark, title);
  if (check.status === 'skip') {
    // Not judged (no image yet): the reason is all there is to say.
    if (check.message) item.append(element('p', { class: 'check-message' }, ...withCode(check.message)));
    return item;
  }
  const facts = element('dl', { class: 'check-facts' });
  facts.append(element('dt', {}, 'Found'), element('dd', {}, check.actual || '—'), element('dt', {}, 'Expected'), element('dd', {}, check.expected || '—'));
  item.append(element('div', {}, facts));
  if (!check.passed) {
    const detail = element('div', { class: 'check-detail' });
    if (check.evidence?.length) detail.append(...check.evidence.map(renderEvidence));
    else if (check.message) detail.append(...check.message.split('\n').map((line) => element('p', { class: 'check-message' }, ...withCode(line))));
    if (check.hint) detail.append(element('p', { class: 'check-hint' }, element('strong', {}, 'Hint: '), ...withCode(check.hint)));
    item.append(detail);
  }
  return item;
}

/** One group of findings: its heading, the first few items, the rest behind "Show all". */
function renderEvidence(group: EvidenceGroup): HTMLElement {
  const section = element('div', { class: 'evidence' });
  section.append(element('p', { class: 'evidence-heading' }, ...withCode(group.heading)));
  const list = element('ul', { class: 'evidence-items' }, ...group.items.slice(0, itemsShownFirst).map((item) => element('li', {}, ...pathItem(item))));
  section.append(list);
  if (group.items.length > itemsShownFirst) {
    const rest = group.items.slice(itemsShownFirst);
    const toggle = element('button', { type: 'button', class: 'show-all', 'aria-expanded': 'false' }, `Show all ${group.items.length}`);
    toggle.addEventListener('click', () => {
      const isOpen = toggle.getAttribute('aria-expanded') === 'true';
      if (isOpen) {
        list.replaceChildren(...group.items.slice(0, itemsShownFirst).map((item) => element('li', {}, ...pathItem(item))));
        toggle.textContent = `Show all ${group.items.length}`;
      } else {
        list.append(...rest.map((item) => element('li', {}, ...pathItem(item))));
        toggle.textContent = 'Show fewer';
      }
      toggle.setAttribute('aria-expanded', String(!isOpen));
    });
    section.append(toggle);
  }
  return section;
}

/** "/usr/bin/gcc (named gcc)": the path as code, the reason after it. */
function pathItem(item: string): Array<Node | string> {
  const match = /^(\/\S*)(.*)$/s.exec(item);
  if (!match) return withCode(item);
  return [element('code', {}, match[1]!), match[2]!];
}

/** Text with `backtick` spans as code, the way the grader writes commands in its messages. */
function withCode(text: string): Array<Node | string> {
  return text.split(/`([^`]+)`/).map((part, index) => (index % 2 ? element('code', {}, part) : part));
}

function showLayers(figure: HTMLElement, run: CheckRun): void {
  if (!run.layers.length) {
    figure.hidden = true;
    return;
  }
  figure.hidden = false;
  const total = run.layers.reduce((sum, layer) => sum + layer.sizeBytes, 0);
  figure.querySelector<HTMLElement>('[data-layer-total]')!.textContent = `${formatSize(run.sizeBytes ?? total)} in ${run.layers.length} ${run.layers.length === 1 ? 'layer' : 'layers'}`;
  const bar = figure.querySelector<HTMLElement>('[data-layer-bar]')!;
  const withTools = run.layers.filter((layer) => layer.buildTools.length);
  bar.setAttribute(
    'aria-label',
    `Stacked bar of ${run.layers.length} layers totalling ${formatSize(total)}, layer 1 at the left` +
      (withTools.length ? `; build tools come from layer ${withTools.map((layer) => layer.index + 1).join(', ')}.` : '; no layer adds build tools.'),
  );
  // The striped key only explains stripes that are drawn.
  figure.querySelector<HTMLElement>('[data-layer-key]')!.hidden = withTools.length === 0;
  // The bar reads left to right from layer 1; the list below reads top to bottom in the same order.
  bar.replaceChildren(
    ...run.layers
      .filter((layer) => layer.sizeBytes > 0)
      .map((layer) => {
        const segment = element('span', { class: layer.buildTools.length ? 'segment has-tools' : 'segment' });
        segment.style.flexGrow = String(layer.sizeBytes);
        segment.style.setProperty('--layer-color', colorOf(layer));
        segment.title = `Layer ${layer.index + 1}, ${formatSize(layer.sizeBytes)}: ${describeLayer(layer)}`;
        return segment;
      }),
  );
  const legend = figure.querySelector<HTMLElement>('[data-layer-legend]')!;
  legend.replaceChildren(
    ...run.layers.map((layer) => {
      const item = element('li', { class: layer.buildTools.length ? 'has-tools' : '' });
      item.style.setProperty('--layer-color', colorOf(layer));
      const text = element('span', { class: 'layer-text' }, element('code', {}, describeLayer(layer)));
      if (layer.buildTools.length) {
        const badge = element('span', { class: 'tools' }, `adds build tools: ${toolNames(layer.buildTools)}`);
        text.append(badge);
      }
      item.append(
        element('span', { class: 'swatch', 'aria-hidden': 'true' }),
        element('span', { class: 'layer-number' }, element('span', { class: 'visually-hidden' }, 'Layer '), String(layer.index + 1)),
        element('span', { class: 'size' }, formatSize(layer.sizeBytes)),
        text,
      );
      return item;
    }),
  );
}

/** "go, gcc, make, git" from the tools' paths: the well-known names first, then a count of the rest. */
function toolNames(paths: string[]): string {
  const names = [...new Set(paths.map((file) => file.split('/').pop()!.replace(/^.*-(gcc|cc)(-\d+)?$/, 'gcc')))];
  const wellKnown = ['go', 'gcc', 'make', 'git', 'clang'].filter((name) => names.includes(name));
  const shown = wellKnown.length ? wellKnown : names.slice(0, 3);
  const more = paths.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more ${more === 1 ? 'file' : 'files'}` : ''}`;
}

function colorOf(layer: LayerSummary): string {
  return layerColors[layer.index % layerColors.length]!;
}

function describeLayer(layer: LayerSummary): string {
  const instruction = layer.instruction ?? layer.createdBy;
  // `docker import` leaves "Imported from -" as the history row: there is no instruction to show.
  if (instruction && /^Imported from /.test(instruction)) return 'an imported base filesystem';
  return instruction ?? (layer.unreadable ? `unreadable: ${layer.unreadable}` : 'no history');
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
