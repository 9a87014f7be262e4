import type { Page } from 'playwright-core';

type PastingWindow = Window & { layerlab?: { terminal: { terminal: { paste(text: string): void } } } };

/**
 * Pastes `bytes` bytes of random text into the page's terminal, as xterm pastes (lines joined
 * by the CR a terminal paste sends), and returns the SHA-256 the sandbox must compute of what
 * arrives, with the page's clock at the moment of the paste. Base64 lines stay under 4096
 * characters, a terminal's line limit, so the text arrives whole in any tty mode.
 */
export async function pasteRandomText(page: Page, bytes: number): Promise<{ expected: string; startedAt: number }> {
  return page.evaluate(async (size) => {
    const random = new Uint8Array(3 * 1024);
    const lines: string[] = [];
    let length = 0;
    while (length < size) {
      crypto.getRandomValues(random);
      const line = btoa(String.fromCharCode(...random)).slice(0, 4095);
      // The joined length: each line after the first brings its CR.
      length += line.length + (lines.length ? 1 : 0);
      lines.push(line);
    }
    const text = lines.join('\r').slice(0, size);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    const startedAt = performance.now();
    (window as PastingWindow).layerlab!.terminal.terminal.paste(text);
    return { expected: [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join(''), startedAt };
  }, bytes);
}
