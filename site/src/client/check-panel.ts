import { checkPath, formatSize, lessonStatusLabels, type CheckResult, type CheckRun, type CheckStreamEvent, type LayerSummary } from '../../../runner/src/contract';
import { setStatusPill } from './progress';
import { findRunner } from './runner';


const layerColors = ['#7c3aed', '#2563eb', '#0f766e', '#a16207', '#be185d', '#4d7c0f', '#0369a1', '#6d28d9'];

export function setUpCheckPanel(panel: HTMLElement): void {
  const exercise = panel.dataset.exercise!;
  const button = panel.querySelector<HTMLButtonElement>('[data-check-button]')!;
  const label = panel.querySelector<HTMLElement>('[data-check-label]')!;
  const status = panel.querySelector<HTMLElement>('[data-check-status]')!;
  const errorLine = panel.querySelector<HTMLElement>('[data-check-error]')!;
  const results = panel.querySelector<HTMLElement>('[data-check-results]')!;
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
    try {
      await runCheck(exercise, (event) => {
        if (event.type === 'progress') status.textContent = `${event.text}…`;
        else if (event.type === 'error') {
          status.textContent = 'The check could not run.';
          errorLine.hidden = false;
          errorLine.textContent = `${event.message} ${event.nextStep}`;
        } else {
          showResults(results, event.run);
          status.textContent = summarize(event.run, event.lessonComplete, event.isNewlyComplete);
          const pill = document.querySelector<HTMLElement>('[data-lesson-status]');
          if (pill) setStatusPill(pill, event.lessonComplete, lessonStatusLabels[event.lessonComplete ? 'complete' : 'checked']);
        }
      });
    } catch (error) {
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

async function runCheck(exercise: string, onEvent: (event: CheckStreamEvent) => void): Promise<void> {
  const response = await fetch(checkPath(exercise), { method: 'POST', cache: 'no-store' });
  if (!response.ok || !response.body) {
    let problem = `the runner answered ${response.status}`;
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

function summarize(run: CheckRun, lessonComplete: boolean, isNewlyComplete: boolean): string {
  const graded = run.checks.filter((check) => !check.isAdvisory);
  const passing = graded.filter((check) => check.passed).length;
  const outcome = `Check finished: ${passing} of ${graded.length} checks pass.`;
  if (run.passed) return `${outcome} ${isNewlyComplete ? 'Lesson complete. Well done!' : lessonComplete ? 'This lesson is complete.' : ''}`.trim();
  return `${outcome} The failing checks below say what to change.`;
}

function showResults(container: HTMLElement, run: CheckRun): void {
  container.hidden = false;
  const summary = container.querySelector<HTMLElement>('[data-check-summary]')!;
  const graded = run.checks.filter((check) => !check.isAdvisory);
  const passing = graded.filter((check) => check.passed).length;
  summary.textContent = run.passed ? `All ${graded.length} checks pass` : `${passing} of ${graded.length} checks pass`;
  summary.classList.toggle('is-passed', run.passed);
  const list = container.querySelector<HTMLElement>('[data-check-list]')!;
  list.replaceChildren(...run.checks.map(renderCheck));
  showLayers(container.querySelector<HTMLElement>('[data-layer-chart]')!, run);
}

function renderCheck(check: CheckResult): HTMLLIElement {
  const item = element('li', { class: check.status === 'pass' ? 'is-pass' : check.status === 'fail' ? 'is-fail' : 'is-skip' });
  const mark = element('span', { class: 'mark', 'aria-hidden': 'true' }, check.status === 'pass' ? '✓' : check.status === 'fail' ? '✗' : '–');
  const statusWord = check.status === 'pass' ? 'Pass' : check.status === 'fail' ? (check.isAdvisory ? 'Advice' : 'Fail') : 'Skipped';
  const title = element('span', { class: 'check-title' }, element('span', { class: 'visually-hidden' }, `${statusWord}: `), check.title);
  item.append(mark, title);
  if (check.status === 'skip') {
    // Not judged (no image yet): the reason is all there is to say.
    if (check.message) item.append(element('p', { class: 'check-message' }, ...withCode(check.message)));
    return item;
  }
  const facts = element('dl', { class: 'check-facts' });
  facts.append(element('dt', {}, 'Found'), element('dd', {}, check.actual || '—'), element('dt', {}, 'Expected'), element('dd', {}, check.expected || '—'));
  item.append(element('div', {}, facts));
  if (check.status === 'fail') {
    const detail = element('div', {});
    if (check.message) detail.append(element('p', { class: 'check-message' }, ...withCode(check.message)));
    if (check.hint) detail.append(element('p', { class: 'check-hint' }, element('strong', {}, 'Hint: '), ...withCode(check.hint)));
    item.append(detail);
  }
  return item;
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
    `Stacked bar of ${run.layers.length} layers totalling ${formatSize(total)}` +
      (withTools.length ? `; build tools come from layer ${withTools.map((layer) => layer.index + 1).join(', ')}.` : '; no layer adds build tools.'),
  );
  figure.querySelector<HTMLElement>('[data-layer-key]')!.hidden = withTools.length === 0;
  bar.replaceChildren(
    ...run.layers
      .filter((layer) => layer.sizeBytes > 0)
      .map((layer) => {
        const segment = element('span', { class: layer.buildTools.length ? 'segment has-tools' : 'segment' });
        segment.style.flexGrow = String(layer.sizeBytes);
        segment.style.setProperty('--layer-color', colorOf(layer));
        segment.title = `${formatSize(layer.sizeBytes)}: ${describeLayer(layer)}`;
        return segment;
      }),
  );
  const legend = figure.querySelector<HTMLElement>('[data-layer-legend]')!;
  // Top layer first, as `docker history` lists them.
  legend.replaceChildren(
    ...[...run.layers].reverse().map((layer) => {
      const item = element('li', { class: layer.buildTools.length ? 'has-tools' : '' });
      item.style.setProperty('--layer-color', colorOf(layer));
      const text = element('span', {}, element('code', {}, describeLayer(layer)));
      if (layer.buildTools.length) {
        const badge = element('span', { class: 'tools' }, `adds build tools: ${toolNames(layer.buildTools)}`);
        badge.title = layer.buildTools.join('\n');
        text.append(badge);
      }
      item.append(element('span', { class: 'swatch', 'aria-hidden': 'true' }), element('span', { class: 'size' }, formatSize(layer.sizeBytes)), text);
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
  return layer.instruction ?? layer.createdBy ?? (layer.unreadable ? `(unreadable: ${layer.unreadable})` : '(no history)');
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
