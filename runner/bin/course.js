#!/usr/bin/env node
// The `course` command. Its code is compiled from runner/src by `npm run build`.
import v8 from 'node:v8';

// Reading an image streams hundreds of MB of short-lived buffers through the young
// generation, which V8 would grow to 3 x 16 MB. Kept at 2 MB semi-spaces that do not grow,
// `course check` of golang:1.24 peaks at 124 MB instead of 163-171 MB, for no more CPU
// (reading its archive: 1.9 s instead of 2.3 s user+sys). Set before the CLI is loaded.
v8.setFlagsFromString('--max-semi-space-size=2');
v8.setFlagsFromString('--semi-space-growth-factor=1');

let cli;
try {
  cli = await import('../../dist/runner/src/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write('error: Layerlab is not built yet.\n  Run `npm install && npm run build` in the Layerlab folder, then try again.\n');
  process.exit(3);
}

// The first Ctrl-C asks the running command to stop and clean up (remove the containers and
// temporary files it made); a second one quits at once.
const interrupt = new AbortController();
const onSignal = () => {
  if (interrupt.signal.aborted) process.exit(cli.interruptedExitCode);
  process.stderr.write('\nStopping (press Ctrl-C again to quit at once)…\n');
  interrupt.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

process.exitCode = await cli.runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  interrupt.signal,
);
process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
