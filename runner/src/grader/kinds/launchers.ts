/** Programs that set something up and then run the rest of their command line in their place (exec). */
const launchers = new Set(['env', 'nohup', 'setsid', 'nice']);
/** Their options that take the next word as a value. */
const launcherOptionsWithValue = new Set(['env -u', 'env -C', 'nice -n']);

/**
 * A command with the launchers in front of the program taken off: `env GODEBUG=x /app/hello`,
 * `nice -n 5 /app/hello` and `nohup /app/hello` all run /app/hello (their options and env's
 * variable assignments go with them). Each launcher execs the program, so the program keeps
 * the arguments and becomes the container's first process, as if it were named directly.
 */
export function withoutLaunchers(command: readonly string[]): string[] {
  const words = [...command];
  while (words.length && launchers.has(words[0]!.split('/').at(-1)!)) {
    const launcher = words.shift()!.split('/').at(-1)!;
    while (words.length) {
      const word = words[0]!;
      if (word === '--') {
        words.shift();
        break;
      }
      const isAssignment = launcher === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word);
      if (!isAssignment && !(word.startsWith('-') && word.length > 1) && !(launcher === 'env' && word === '-')) break;
      words.shift();
      if (launcherOptionsWithValue.has(`${launcher} ${word}`)) words.shift();
    }
  }
  return words;
}
