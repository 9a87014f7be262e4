/**
 * Text from an image or a learner (file names, instructions, labels, a program's output) is
 * untrusted when it reaches a terminal or a report. A file named `ESC ] 0 ; … BEL` would
 * retitle the learner's terminal, `ESC [ 2 J` clear it, OSC 52 write their clipboard; a bidi
 * override (U+202E) makes a name read backwards. These are shown as visible escapes instead,
 * in the notation a shell's `printf` understands, so the learner can still find the file.
 */

/**
 * C0 controls (but tab), DEL, C1 controls, the bidi marks, embeddings, overrides and
 * isolates, line and paragraph separators, and lone surrogates (not text at all).
 */
const unsafe = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const unsafeButNewline = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\u0007': '\\a', '\u0008': '\\b', '\u000b': '\\v', '\u000c': '\\f', '\u001b': '\\e' };

function visible(character: string): string {
  const code = character.charCodeAt(0);
  return named[character] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** For one-line fields (a path, an instruction, a found value): every control is shown escaped, newlines too. */
export function escapeLine(text: string): string {
  return text.replace(unsafe, visible);
}

/**
 * For text whose lines we wrote (a check's message, a program's output): newlines stay line
 * breaks, every other control is shown escaped. A CR alone is escaped too, since it lets a
 * line overwrite the one it is on.
 */
export function escapeText(text: string): string {
  return text.replace(unsafeButNewline, visible);
}
