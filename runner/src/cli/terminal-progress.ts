import type { Progress } from '../progress.js';
import { paintFor } from './style.js';

const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Progress on stderr, so stdout stays clean for results. On a terminal a step redraws one
 * line with a spinner, its elapsed time and the latest detail line; elsewhere (CI logs) a
 * step prints one line when it starts and one when it ends.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, verbose = false): Progress {
  const paint = paintFor(stream);
  const isLive = Boolean(stream.isTTY) && !verbose;
  const seconds = (started: number) => `${((performance.now() - started) / 1000).toFixed(1)} s`;

  return {
    note(line) {
      stream.write(`${paint.green('✓')} ${line}\n`);
    },
    async step(title, run) {
      const started = performance.now();
      let latest = '';
      let frame = 0;
      let timer: NodeJS.Timeout | undefined;
      const draw = () => {
        const width = (stream.columns ?? 80) - 1;
        const line = `${spinnerFrames[frame++ % spinnerFrames.length]} ${title} ${paint.dim(seconds(started))}`;
        const room = width - title.length - 12;
        const detail = latest && room > 10 ? `  ${paint.dim(latest.slice(0, room))}` : '';
        stream.write(`\r\x1b[2K${line}${detail}`);
      };
      if (isLive) {
        draw();
        timer = setInterval(draw, 100);
      } else {
        stream.write(`${paint.cyan('•')} ${title}\n`);
      }
      const detail = (line: string) => {
        latest = line.replace(/\s+/g, ' ').trim();
        if (verbose) stream.write(`  ${paint.dim(latest)}\n`);
      };
      try {
        const result = await run(detail);
        if (timer) clearInterval(timer);
        stream.write(`${isLive ? '\r\x1b[2K' : ''}${paint.green('✓')} ${title} ${paint.dim(`(${seconds(started)})`)}\n`);
        return result;
      } catch (error) {
        if (timer) clearInterval(timer);
        stream.write(`${isLive ? '\r\x1b[2K' : ''}${paint.red('✗')} ${title} ${paint.dim(`(${seconds(started)})`)}\n`);
        throw error;
      }
    },
  };
}
