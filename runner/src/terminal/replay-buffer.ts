/**
 * The last `capacity` bytes a shell wrote, with their position in everything it ever wrote,
 * so a browser can be sent exactly the bytes it has not seen. Older bytes are dropped:
 * memory stays bounded however much a command prints.
 */
export class ReplayBuffer {
  #chunks: Buffer[] = [];
  #size = 0;
  /** Offset of the first byte held. */
  #start = 0;

  constructor(readonly capacity: number) {}

  /** Offset just after the last byte written. */
  get end(): number {
    return this.#start + this.#size;
  }

  get start(): number {
    return this.#start;
  }

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.capacity) {
      const first = this.#chunks[0]!;
      const excess = this.#size - this.capacity;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
        this.#start += first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
        this.#start += excess;
      }
    }
  }

  /**
   * The bytes from `offset` on. When `offset` is older than what is held (or absent), the
   * whole buffer is returned from a line start, so a fresh screen does not begin inside an
   * escape sequence, and `reset` says the browser must clear what it shows.
   */
  since(offset: number | undefined): { offset: number; bytes: Buffer; reset: boolean } {
    if (offset !== undefined && offset >= this.#start && offset <= this.end) {
      return { offset, bytes: Buffer.concat(this.#chunks).subarray(offset - this.#start), reset: false };
    }
    const all = Buffer.concat(this.#chunks);
    // Nothing was dropped: the buffer holds the shell's output from its first byte.
    if (this.#start === 0) return { offset: 0, bytes: all, reset: true };
    const lineStart = all.indexOf(0x0a);
    const skip = lineStart === -1 ? 0 : lineStart + 1;
    return { offset: this.#start + skip, bytes: all.subarray(skip), reset: true };
  }
}
