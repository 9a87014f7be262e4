import { commandsOf } from './console-commands';
import { findRunner } from './runner';

/** Fences whose text is a command for the terminal (console blocks: the `$ ` lines). */
const shellLanguages = new Set(['sh', 'bash', 'shell', 'console', 'shellsession', 'shellscript']);

/**
 * Every code block gets a Copy button; shell blocks also get Run, which types the command
 * into the terminal (it is shown there first and runs on Enter, as if typed by hand).
 */
export async function enhanceCodeBlocks(root: ParentNode): Promise<void> {
  const blocks = [...root.querySelectorAll<HTMLPreElement>('pre')];
  const runner = await findRunner();
  for (const pre of blocks) {
    if (pre.closest('.code-block')) continue;
    const language = pre.dataset.language ?? '';
    const isShell = shellLanguages.has(language);
    const isConsole = language === 'console' || language === 'shellsession';
    const wrapper = document.createElement('div');
    wrapper.className = 'code-block';
    pre.replaceWith(wrapper);
    const toolbar = document.createElement('div');
    toolbar.className = 'code-tools';
    if (language && language !== 'plaintext' && language !== 'text') {
      const tag = document.createElement('span');
      tag.className = 'code-language';
      tag.textContent = language === 'shellsession' ? 'console' : language;
      toolbar.append(tag);
    }
    const command = () => (isConsole ? commandsOf(pre.innerText) : pre.innerText.replace(/\n+$/, ''));

    const copy = button('Copy', 'Copy this code');
    copy.addEventListener('click', async () => {
      await navigator.clipboard.writeText(command());
      flash(copy, 'Copied');
    });
    toolbar.append(copy);

    if (isShell && runner.isPresent && command()) {
      const run = button('Run', 'Type this command into the terminal');
      run.classList.add('code-run');
      run.addEventListener('click', () => {
        document.dispatchEvent(new CustomEvent('layerlab:run-command', { detail: command() }));
        flash(run, 'Sent');
      });
      toolbar.append(run);
    }
    wrapper.append(toolbar, pre);
  }
}

function button(text: string, label: string): HTMLButtonElement {
  const node = document.createElement('button');
  node.type = 'button';
  node.className = 'code-button';
  node.textContent = text;
  node.setAttribute('aria-label', label);
  return node;
}

function flash(node: HTMLButtonElement, text: string): void {
  const original = node.textContent;
  node.textContent = text;
  node.classList.add('is-done');
  window.setTimeout(() => {
    node.textContent = original;
    node.classList.remove('is-done');
  }, 1400);
}
