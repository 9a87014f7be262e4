/** The commands of a console transcript: lines after a `$ ` prompt, with their `\` continuations. */
export function commandsOf(transcript: string): string {
  const commands: string[] = [];
  let isContinuing = false;
  for (const line of transcript.split('\n')) {
    if (isContinuing) {
      commands.push(line);
      isContinuing = line.endsWith('\\');
    } else if (/^\$ /.test(line)) {
      commands.push(line.slice(2));
      isContinuing = line.endsWith('\\');
    }
  }
  return commands.join('\n');
}
