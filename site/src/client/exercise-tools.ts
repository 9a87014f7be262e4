import {
  exerciseComparePath,
  exerciseResetPath,
  type ApiError,
  type DockerfileComparison,
  type ExerciseResetResult,
} from '../../../runner/src/contract';
import { findRunner } from './runner';
import { authHeaders } from './runner-token';
import { watchOverflow } from './wide-content';

/**
 * Two actions on the learner's exercise folder in the sandbox: "Compare with the solution"
 * (a line diff of their Dockerfile against the reference; before the lesson is complete it
 * asks first, since it gives the answer away) and "Reset to the starter" (the starter comes
 * back, their files move to a dated folder beside it; nothing is deleted).
 */
export async function setUpExerciseTools(root: HTMLElement, exercise: string): Promise<void> {
  const runner = await findRunner();
  if (!runner.isPresent) return;
  root.hidden = false;
  const status = root.querySelector<HTMLElement>('[data-tools-status]')!;
  const compareButton = root.querySelector<HTMLButtonElement>('[data-compare]')!;
  const resetButton = root.querySelector<HTMLButtonElement>('[data-reset]')!;
  const warning = root.querySelector<HTMLElement>('[data-compare-warning]')!;
  const confirmReset = root.querySelector<HTMLElement>('[data-reset-confirm]')!;
  const diffBox = root.querySelector<HTMLElement>('[data-diff]')!;

  const isLessonComplete = () => document.querySelector('[data-lesson-status]')?.classList.contains('pill-complete') === true;

  const compare = async () => {
    warning.hidden = true;
    status.textContent = 'Comparing your Dockerfile with the solution…';
    const answer = await callApi<DockerfileComparison>(exerciseComparePath(exercise), 'GET');
    if ('error' in answer) return void (status.textContent = `${answer.error.message} ${answer.error.nextStep}`);
    status.textContent = answer.isSame
      ? `${answer.learnerPath} is the same as the solution.`
      : `${answer.hasLearnerFile ? '' : `There is no ${answer.learnerPath} yet, so every line of the solution is new. `}The differences are below.`;
    showDiff(diffBox, answer);
  };

  compareButton.addEventListener('click', () => {
    confirmReset.hidden = true;
    if (isLessonComplete()) return void compare();
    warning.hidden = false;
    warning.querySelector<HTMLButtonElement>('[data-compare-anyway]')!.focus();
  });
  warning.querySelector('[data-compare-anyway]')!.addEventListener('click', () => void compare());
  warning.querySelector('[data-compare-cancel]')!.addEventListener('click', () => {
    warning.hidden = true;
    compareButton.focus();
  });

  resetButton.addEventListener('click', () => {
    warning.hidden = true;
    confirmReset.hidden = false;
    confirmReset.querySelector<HTMLButtonElement>('[data-reset-confirm-button]')!.focus();
  });
  confirmReset.querySelector('[data-reset-cancel]')!.addEventListener('click', () => {
    confirmReset.hidden = true;
    resetButton.focus();
  });
  confirmReset.querySelector('[data-reset-confirm-button]')!.addEventListener('click', async () => {
    confirmReset.hidden = true;
    status.textContent = 'Putting the starter back…';
    const answer = await callApi<ExerciseResetResult>(exerciseResetPath(exercise), 'POST');
    if ('error' in answer) return void (status.textContent = `${answer.error.message} ${answer.error.nextStep}`);
    diffBox.hidden = true;
    status.textContent = `${answer.folder} holds the starter again.${answer.keptAs ? ` Your files are in ${answer.keptAs}.` : ''}`;
    resetButton.focus();
  });
}

async function callApi<T>(path: string, method: 'GET' | 'POST'): Promise<T | ApiError> {
  try {
    const response = await fetch(path, { method, cache: 'no-store', headers: authHeaders() });
    const body = (await response.json()) as T | ApiError;
    if (!response.ok && !(body as ApiError).error) return { error: { message: `The runner answered ${response.status}.`, nextStep: 'Try again.' } };
    return body;
  } catch (error) {
    return { error: { message: `Lost the connection to the runner (${error instanceof Error ? error.message : String(error)}).`, nextStep: 'Check that `course start` is still running, then try again.' } };
  }
}

/** A unified diff as a table: your line number, the solution's, and the line, marked by where it appears. */
function showDiff(box: HTMLElement, comparison: DockerfileComparison): void {
  box.hidden = comparison.isSame;
  const scroll = box.querySelector<HTMLElement>('[data-diff-scroll]')!;
  const table = document.createElement('table');
  table.className = 'diff';
  const head = table.createTHead().insertRow();
  for (const text of ['Yours', 'Solution', 'Line']) {
    const cell = document.createElement('th');
    cell.scope = 'col';
    cell.textContent = text;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const hunk of comparison.hunks) {
    const separator = body.insertRow();
    separator.className = 'diff-hunk';
    const cell = separator.insertCell();
    cell.colSpan = 3;
    cell.textContent = `Your lines ${hunk.oldStart}–${hunk.oldStart + Math.max(0, hunk.oldLines - 1)}, the solution's ${hunk.newStart}–${hunk.newStart + Math.max(0, hunk.newLines - 1)}`;
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    for (const line of hunk.lines) {
      const sign = line[0];
      if (sign === '\\') continue; // "\ No newline at end of file"
      const row = body.insertRow();
      const kind = sign === '-' ? 'removed' : sign === '+' ? 'added' : 'same';
      row.className = `diff-${kind}`;
      row.insertCell().textContent = sign === '+' ? '' : String(oldLine++);
      row.insertCell().textContent = sign === '-' ? '' : String(newLine++);
      const text = row.insertCell();
      const marker = document.createElement('span');
      marker.className = 'diff-marker';
      marker.textContent = kind === 'removed' ? '−' : kind === 'added' ? '+' : ' ';
      marker.setAttribute('aria-hidden', 'true');
      const said = document.createElement('span');
      said.className = 'visually-hidden';
      said.textContent = kind === 'removed' ? 'Only yours: ' : kind === 'added' ? 'Only the solution: ' : '';
      const code = document.createElement('code');
      code.textContent = line.slice(1);
      text.append(marker, said, code);
    }
  }
  scroll.replaceChildren(table);
  if (!scroll.dataset.watched) watchOverflow(scroll, 'Your Dockerfile against the solution, scrolls sideways');
  scroll.dataset.watched = 'true';
}
