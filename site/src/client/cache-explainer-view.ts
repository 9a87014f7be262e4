import type { BuildFolderSummary, CacheMissCause, CacheReport, ExplainBuildRequest, TerminalBuild } from '../../../runner/src/contract/inspect';
import { element, requestJson, visible } from './explorer-dom';
import { findRunner } from './runner';

const causeTitles: Record<CacheMissCause['kind'], string> = {
  'no-earlier-build': 'No earlier build to compare with',
  'instruction-changed': 'The instruction changed',
  'base-changed': 'The base image changed',
  'arg-changed': 'A build argument changed',
  'env-changed': 'An environment variable changed',
  'context-file-changed': 'A file of the build context changed',
  'earlier-step-rebuilt': 'An earlier step ran again',
  'copied-stage-rebuilt': 'The stage it copies from was rebuilt',
  'not-in-cache': 'The cache no longer had it',
};

const steps = (count: number) => `${count} ${count === 1 ? 'step' : 'steps'}`;

/** "NAME=value" lines into build arguments; an error names the line that is not one. */
export function parseBuildArgLines(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const line of text.split('\n').map((raw) => raw.trim()).filter(Boolean)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`"${line}" is not NAME=value (for example VERSION=2).`);
    args[match[1]!] = match[2]!;
  }
  return args;
}

/**
 * The cache explainer: builds a folder of the sandbox as `docker build -t TAG FOLDER` would
 * (same engine, same cache), then shows each step cached or run again and, for the first
 * step that ran, why, in the lesson's words, with a link to the lesson-5 section.
 */
export function startCacheExplainer(root: HTMLElement): void {
  const form = root.querySelector<HTMLFormElement>('[data-cache-form]')!;
  const folderPicker = form.querySelector<HTMLSelectElement>('[data-build-folder]')!;
  const tagInput = form.querySelector<HTMLInputElement>('[data-build-tag]')!;
  const argsInput = form.querySelector<HTMLTextAreaElement>('[data-build-args]')!;
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  const status = root.querySelector<HTMLElement>('[data-cache-status]')!;
  const result = root.querySelector<HTMLElement>('[data-cache-result]')!;
  let folders: BuildFolderSummary[] = [];
  let tagEdited = false;
  /** Counts finished requests, so a caller (and a test) can tell a new answer from the last one. */
  let generation = 0;
  const say = (text: string) => (status.textContent = text);

  async function loadFolders(): Promise<void> {
    try {
      folders = (await requestJson<{ folders: BuildFolderSummary[] }>('/api/inspect/build-folders')).folders;
    } catch (error) {
      say(`Could not list the sandbox's folders: ${(error as Error).message}`);
      return;
    }
    const before = folderPicker.value || new URL(location.href).searchParams.get('folder') || '/root/exercises/lesson-5';
    folderPicker.replaceChildren(...folders.map((folder) => element('option', { value: folder.path }, visible(folder.path))));
    if (!folders.length) folderPicker.append(element('option', { value: '' }, 'No folder under /root holds a Dockerfile yet'));
    if (folders.some((folder) => folder.path === before)) folderPicker.value = before;
    if (!tagEdited) tagInput.value = folders.find((folder) => folder.path === folderPicker.value)?.suggestedTag ?? '';
  }

  function render(report: CacheReport): void {
    const firstRan = report.steps.find((step) => step.cause);
    const heading = element('h3', {}, `Built ${visible(report.folder)} as ${visible(report.tag)}`);
    const summary = element(
      'p',
      { 'data-cache-summary': '' },
      firstRan
        ? `${steps(report.steps.filter((step) => step.isCached).length)} came from the cache; ${report.steps.filter((step) => step.cause).length} ran again, starting with ${visible(firstRan.name)}.`
        : 'Every step came from the cache.',
    );
    const list = element('ol', { class: 'steps' });
    for (const step of report.steps) {
      const isFirst = step === firstRan;
      const item = element('li', { 'data-step-line': String(step.line ?? ''), 'data-cached': String(step.isCached), ...(isFirst ? { 'data-first-ran': '' } : {}) });
      item.append(
        element('span', { class: `badge ${step.isCached ? 'cached' : step.cause ? 'ran' : 'base'}` }, step.isCached ? 'cached' : step.cause ? 'ran again' : 'base'),
        ' ',
        element('code', {}, visible(step.name)),
        ...(step.line ? [element('span', { class: 'meta' }, ` line ${step.line}`)] : []),
      );
      if (step.cause) {
        const why = element('div', { class: isFirst ? 'why first' : 'why', 'data-cause': step.cause.kind });
        if (isFirst) why.append(element('strong', {}, `Why: ${causeTitles[step.cause.kind]}. `));
        why.append(element('span', {}, visible(step.cause.message)));
        if (isFirst && step.cause.kind === 'context-file-changed') {
          const files = element('ul', { class: 'files' });
          for (const [names, word] of [[step.cause.changed, 'changed'], [step.cause.added, 'new'], [step.cause.removed, 'gone']] as const) {
            for (const name of names.slice(0, 20)) files.append(element('li', { 'data-context-file': name }, `${visible(name)} (${word})`));
          }
          why.append(files);
        }
        if (isFirst) {
          why.append(' ');
          why.append(element('a', { href: `..${step.cause.lessonLink}` }, step.cause.kind === 'earlier-step-rebuilt' ? 'Lesson 5: one miss and everything after it runs again' : 'Lesson 5: how the builder decides'));
        }
        item.append(why);
      }
      list.append(item);
    }
    result.replaceChildren(heading, summary, list);
    if (!report.hasEarlierBuild) {
      result.append(element('p', { class: 'hint' }, 'This was the first build of this folder and tag explained here: change a file, a build argument or the base, then build again to see why steps run.'));
    }
    result.hidden = false;
  }

  folderPicker.addEventListener('change', () => {
    if (!tagEdited) tagInput.value = folders.find((folder) => folder.path === folderPicker.value)?.suggestedTag ?? '';
  });
  tagInput.addEventListener('input', () => (tagEdited = true));
  folderPicker.addEventListener('focus', () => void loadFolders());

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      let request: ExplainBuildRequest;
      try {
        request = { folder: folderPicker.value, tag: tagInput.value.trim(), buildArgs: parseBuildArgLines(argsInput.value) };
      } catch (error) {
        say((error as Error).message);
        argsInput.focus();
        return;
      }
      if (!request.folder) return say('Pick a folder that holds a Dockerfile.');
      button.disabled = true;
      root.setAttribute('aria-busy', 'true');
      const started = performance.now();
      say(`Building ${request.folder} as ${request.tag}…`);
      try {
        const report = await requestJson<CacheReport>('/api/inspect/explain-build', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
        render(report);
        say(`Built in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
      } catch (error) {
        say(`The build could not be explained: ${(error as Error).message}`);
      } finally {
        result.setAttribute('data-generation', String(++generation));
        button.disabled = false;
        root.removeAttribute('aria-busy');
      }
    })();
  });

  const buildsList = root.querySelector<HTMLOListElement>('[data-terminal-builds]');
  const buildsStatus = root.querySelector<HTMLElement>('[data-builds-status]');
  let shownBuilds = '';

  function renderBuild(build: TerminalBuild): HTMLLIElement {
    const item = element('li', { 'data-build-image': build.image ?? '' });
    const when = new Date(build.finishedAt).toLocaleTimeString();
    const base = build.steps.find((step) => step.number === 1 && step.stage === '') ?? build.steps.find((step) => step.number === 1);
    const title = build.image ?? (base ? base.name.replace(/^\[[^\]]*\] /, '') : 'A build');
    item.append(element('strong', {}, visible(title)), element('span', { class: 'meta' }, visible(` built at ${when}${Object.keys(build.buildArgs).length ? ` with ${Object.entries(build.buildArgs).map(([name, value]) => `${name}=${value}`).join(' ')}` : ''}${build.error ? ' — failed' : ''}`)));
    const steps = element('ol', { class: 'build-steps' });
    for (const step of build.steps) {
      const row = element('li', { 'data-step': step.name, 'data-cached': String(step.isCached) });
      row.append(element('span', { class: `badge ${step.isCached ? 'cached' : step.number === 1 ? 'base' : 'ran'}` }, step.isCached ? 'cached' : step.number === 1 ? 'base' : step.error ? 'failed' : 'ran'), ' ', element('code', {}, visible(step.name)));
      steps.append(row);
    }
    item.append(steps);
    if (build.firstRan) {
      const why = element('p', { class: 'why', 'data-cause': build.firstRan.cause.kind });
      why.append(element('strong', {}, `Why ${visible(build.firstRan.step)} ran: ${causeTitles[build.firstRan.cause.kind]}. `), visible(build.firstRan.cause.message), ' ', element('a', { href: `..${build.firstRan.cause.lessonLink}` }, 'Lesson 5: how the builder decides'));
      item.append(why);
    }
    return item;
  }

  async function refreshBuilds(): Promise<void> {
    if (!buildsList || !buildsStatus) return;
    try {
      // Bounded, so one request the runner never answers cannot stop the polling for good.
      const { builds } = await requestJson<{ builds: TerminalBuild[] }>('/api/inspect/builds', { signal: AbortSignal.timeout(60_000) });
      const json = JSON.stringify(builds);
      if (json === shownBuilds) return;
      shownBuilds = json;
      buildsList.replaceChildren(...builds.map(renderBuild));
      buildsStatus.textContent = builds.length ? '' : 'No builds yet: run `docker build -t NAME .` in the terminal and it shows here.';
    } catch (error) {
      buildsStatus.textContent = `Could not read BuildKit's history: ${(error as Error).message}`;
    }
  }

  void (async () => {
    const runner = await findRunner();
    if (!runner.isPresent) {
      button.disabled = true;
      say('The cache explainer builds in your sandbox through the runner: start it with `course start`, then reload this page.');
      return;
    }
    await loadFolders();
    await refreshBuilds();
    // Builds run in the terminal appear as they finish. The next look is scheduled only once
    // the last has answered: with a fixed interval a slow answer (a busy sandbox, a long
    // history) let requests pile up, each one more for the runner to read.
    const pollBuilds = async (): Promise<void> => {
      if (document.visibilityState === 'visible') await refreshBuilds();
      setTimeout(() => void pollBuilds(), 5000);
    };
    setTimeout(() => void pollBuilds(), 5000);
  })();
}
