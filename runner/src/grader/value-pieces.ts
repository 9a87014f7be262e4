/**
 * Long pieces of a value (a checksum, say) found in text or bytes: any run of at least
 * `minimum` characters that is also a run of the value, so a value split over two `printf`
 * arguments is found too. Every such run contains one of the value's `minimum`-long
 * windows, so looking for those windows finds every run.
 */
export function windowsOf(value: string, minimum: number): string[] {
  const windows = new Set<string>();
  for (let at = 0; at + minimum <= value.length; at++) windows.add(value.slice(at, at + minimum));
  return [...windows];
}

/** Replaces every run of at least `minimum` characters that is also a run of `value` with "***". */
export function maskPieces(text: string, value: string, minimum: number): string {
  let result = '';
  let at = 0;
  while (at < text.length) {
    let length = 0;
    if (value.includes(text.slice(at, at + minimum)) && at + minimum <= text.length) {
      length = minimum;
      while (at + length < text.length && value.includes(text.slice(at, at + length + 1))) length++;
    }
    if (length) {
      result += '***';
      at += length;
    } else {
      result += text[at];
      at++;
    }
  }
  return result;
}
