import { commandsOf } from './console-commands';
import { findRunner } from './runner';

/** Fences whose text is a command for the terminal (console blocks: the `$ ` lines). */
const shellLanguages = new Set(['sh', 'bash', 'shell', 'console', 'shellsession', 'shellscript']);
const helpId = 'code-block-help';

/**
 * Every code block gets a Copy button; shell blocks also get Run, which types the command
 * into the terminal (it is shown there first and runs on Enter, as if typed by hand).
 *
 * Each block is one Tab stop, the code itself (arrow keys scroll it). Enter moves into its
 * toolbar, the arrow keys move between the buttons there, Escape goes back to the code;
 * Tab from the toolbar goes on to the next thing on the page. So a lesson with twenty blocks
 * costs twenty Tab presses, not sixty.
 */
export async function enhanceCodeBlocks(root: ParentNode): Promise<void> {
  const blocks = [...root.querySelectorAll<HTMLPreElement>('pre')];
  const runner = await findRunner();
  if (blocks.length && !document.getElementById(helpId)) {
    const help = document.createElement('p');
    help.id = helpId;
    help.className = 'visually-hidden';
    help.textContent = 'Code. Press Enter for its Copy and Run buttons, Escape to come back.';
    document.body.append(help);
  }
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
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'Code actions');
    const shownLanguage = language === 'shellsession' ? 'console' : language;
    if (language && language !== 'plaintext' && language !== 'text') {
      const tag = document.createElement('span');
      tag.className = 'code-language';
      tag.textContent = shownLanguage;
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
      const run = button('Run', 'Run: type this command into the terminal');
      run.classList.add('code-run');
      run.addEventListener('click', () => {
        document.dispatchEvent(new CustomEvent('layerlab:run-command', { detail: command() }));
        flash(run, 'Sent');
      });
      toolbar.append(run);
    }
    // The code comes first in the document (and is the block's Tab stop); CSS draws the toolbar above it.
    pre.tabIndex = 0;
    pre.setAttribute('aria-describedby', helpId);
    wrapper.append(pre, toolbar);
    const buttons = [...toolbar.querySelectorAll<HTMLButtonElement>('button')];
    pre.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      buttons[0]?.focus();
    });
    toolbar.addEventListener('keydown', (event) => {
      const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
      if (index === -1) return;
      if (event.key === 'Escape') {
        event.preventDefault();
        pre.focus();
        return;
      }
      const next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: buttons.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      buttons[(next + buttons.length) % buttons.length]!.focus();
    });
  }
}

function button(text: string, label: string): HTMLButtonElement {
  const node = document.createElement('button');
  node.type = 'button';
  node.className = 'code-button';
  node.textContent = text;
  node.setAttribute('aria-label', label);
  // Reached from the code with Enter, not with Tab.
  node.tabIndex = -1;
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
