import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal, type ITheme } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { TerminalConnection, type ConnectionState } from './terminal-connection';

/** The terminal's colours: one palette per colour scheme, matched to the page. */
const themes: Record<'light' | 'dark', ITheme> = {
  dark: {
    background: '#0c0d13',
    foreground: '#e6e8f0',
    cursor: '#c4b5fd',
    cursorAccent: '#0c0d13',
    selectionBackground: '#4c3d80',
    black: '#1e2130', red: '#f87171', green: '#4ade80', yellow: '#facc15',
    blue: '#7aa7ff', magenta: '#c084fc', cyan: '#5eead4', white: '#d4d7e3',
    brightBlack: '#5a6072', brightRed: '#fca5a5', brightGreen: '#86efac', brightYellow: '#fde68a',
    brightBlue: '#a5c3ff', brightMagenta: '#d8b4fe', brightCyan: '#99f6e4', brightWhite: '#ffffff',
  },
  light: {
    background: '#15161e',
    foreground: '#e6e8f0',
    cursor: '#c4b5fd',
    cursorAccent: '#15161e',
    selectionBackground: '#4c3d80',
    black: '#2a2d3d', red: '#f87171', green: '#4ade80', yellow: '#facc15',
    blue: '#7aa7ff', magenta: '#c084fc', cyan: '#5eead4', white: '#d4d7e3',
    brightBlack: '#6b7185', brightRed: '#fca5a5', brightGreen: '#86efac', brightYellow: '#fde68a',
    brightBlue: '#a5c3ff', brightMagenta: '#d8b4fe', brightCyan: '#99f6e4', brightWhite: '#ffffff',
  },
};

export interface TerminalView {
  terminal: Terminal;
  connection: TerminalConnection;
  /** Types a command into the shell, as if the learner typed it and pressed Enter. */
  typeCommand(command: string): void;
  /** Everything in the terminal's buffer, one line per row (for tests and screen readers). */
  readText(): string;
  /** What Ctrl+M does in the terminal: Tab moves focus, or goes to the shell. */
  toggleTabMovesFocus(): void;
  /** Fits and redraws, for a terminal that was out of sight (the phone's lesson tab). */
  redraw(): void;
}

/**
 * @param onTabMode  called when Ctrl+M turns "Tab moves focus" on or off, to announce it.
 */
export function openTerminalView(host: HTMLElement, onState: (state: ConnectionState) => void, onTabMode: (tabMovesFocus: boolean) => void = () => {}): TerminalView {
  const darkQuery = matchMedia('(prefers-color-scheme: dark)');
  const terminal = new Terminal({
    fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--font-mono').trim() || 'monospace',
    fontSize: 14,
    lineHeight: 1.15,
    cursorBlink: true,
    scrollback: 5000,
    allowProposedApi: false,
    // Announces new output to screen readers through xterm's accessibility tree.
    screenReaderMode: false,
    // Colours the shell picks (the prompt's magenta label, ls colours) stay readable: xterm
    // adjusts a foreground until it has 4.5:1 against its background.
    minimumContrastRatio: 4.5,
    theme: themes[darkQuery.matches ? 'dark' : 'light'],
  });
  darkQuery.addEventListener('change', (event) => {
    terminal.options.theme = themes[event.matches ? 'dark' : 'light'];
  });
  const fit = new FitAddon();
  terminal.loadAddon(fit);
  terminal.loadAddon(new WebLinksAddon((_event, uri) => window.open(uri, '_blank', 'noopener,noreferrer')));
  terminal.open(host);
  fit.fit();

  const connection = new TerminalConnection(terminal, onState);
  terminal.onData((data) => connection.sendInput(data));
  terminal.onBinary((data) => connection.sendBinaryInput(data));
  terminal.onResize(({ cols, rows }) => connection.resize(cols, rows));

  // Keys the page takes before the shell sees them:
  // - Ctrl+M toggles "Tab moves focus" (as in VS Code's terminal), so a keyboard user can
  //   always leave: while it is on, Tab and Shift+Tab move focus instead of completing.
  // - Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals.
  // - Plain Ctrl+V pastes, as learners expect from other web terminals (the shell's
  //   quoted-insert is not worth the surprise); Ctrl+C copies only while text is selected,
  //   and otherwise stays the shell's interrupt.
  // Returning false leaves the key to the browser: its focus move, or its paste event, which
  // xterm then handles (bracketed paste included).
  let tabMovesFocus = false;
  const toggleTabMovesFocus = () => {
    tabMovesFocus = !tabMovesFocus;
    onTabMode(tabMovesFocus);
  };
  terminal.attachCustomKeyEventHandler((event) => {
    if (event.type !== 'keydown') return true;
    const key = event.key.toLowerCase();
    if (event.ctrlKey && !event.altKey && !event.metaKey && !event.shiftKey && key === 'm') {
      toggleTabMovesFocus();
      event.preventDefault();
      return false;
    }
    if (key === 'tab' && tabMovesFocus && !event.ctrlKey && !event.altKey && !event.metaKey) return false;
    if (!event.ctrlKey || event.altKey || event.metaKey) return true;
    if (key === 'c' && (event.shiftKey || terminal.hasSelection())) {
      const selection = terminal.getSelection();
      if (selection) void navigator.clipboard.writeText(selection).catch(() => document.execCommand('copy'));
      if (!event.shiftKey) terminal.clearSelection();
      event.preventDefault();
      return false;
    }
    if (key === 'v') return false;
    return true;
  });

  // The panel follows the split and the window; refit when its box changes.
  let frame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
    });
  }).observe(host);

  connection.connect();

  return {
    terminal,
    connection,
    toggleTabMovesFocus,
    redraw() {
      if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
      terminal.refresh(0, terminal.rows - 1);
    },
    typeCommand(command) {
      const lines = command.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
      connection.sendInput(`${lines.join('\r')}\r`);
      terminal.focus();
    },
    readText() {
      const buffer = terminal.buffer.active;
      const lines: string[] = [];
      for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row)?.translateToString(true) ?? '');
      return lines.join('\n');
    },
  };
}
