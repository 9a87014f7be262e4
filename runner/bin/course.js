#!/usr/bin/env node
// The `course` command. Its code is compiled from runner/src by `npm run build`.
let cli;
try {
  cli = await import('../../dist/runner/src/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stderr.write('error: Layerlab is not built yet.\n  Run `npm install && npm run build` in the Layerlab folder, then try again.\n');
  process.exit(3);
}
process.exitCode = await cli.runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
