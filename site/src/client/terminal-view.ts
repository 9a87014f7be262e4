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
}

export function openTerminalView(host: HTMLElement, onState: (state: ConnectionState) => void): TerminalView {
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
  terminal.onBinary((data) => connection.sendInput(data));
  terminal.onResize(({ cols, rows }) => connection.resize(cols, rows));

  // Ctrl+Shift+C copies the selection and Ctrl+Shift+V pastes, as in desktop terminals;
  // plain Ctrl+C stays the shell's interrupt. Returning false leaves the key to the browser,
  // whose own paste event xterm then handles (bracketed paste included).
  terminal.attachCustomKeyEventHandler((event) => {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true;
    const key = event.key.toLowerCase();
    if (key === 'c') {
      const selection = terminal.getSelection();
      if (selection) void navigator.clipboard.writeText(selection).catch(() => document.execCommand('copy'));
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
