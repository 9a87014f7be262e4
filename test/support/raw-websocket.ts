import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { terminalSocketPath } from '../../runner/src/terminal/protocol.js';

/**
 * A WebSocket spoken by hand, for frames no well-behaved library sends: unmasked frames,
 * reserved opcodes, invalid UTF-8. It does the handshake, writes raw frames and reports the
 * close code the server answers with (or that the connection dropped without one).
 */
export class RawWebSocket {
  #received = Buffer.alloc(0);
  #ended = false;
  #waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  static async open(origin: string, token: string): Promise<RawWebSocket> {
    const url = new URL(origin);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const raw = new RawWebSocket(socket);
    socket.write(
      [
        `GET ${terminalSocketPath}?token=${token} HTTP/1.1`,
        `Host: ${url.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        `Origin: ${url.origin}`,
        '',
        '',
      ].join('\r\n'),
    );
    await raw.#until(() => raw.#received.includes('\r\n\r\n') || raw.#ended);
    const end = raw.#received.indexOf('\r\n\r\n');
    const head = raw.#received.subarray(0, Math.max(end, 0)).toString('latin1');
    if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head.split('\r\n')[0] ?? 'connection closed'}`);
    raw.#received = raw.#received.subarray(end + 4);
    return raw;
  }

  /** Writes one frame; `mask: false` breaks the rule that clients mask every frame. */
  sendFrame(opcode: number, payload: Buffer, { mask = true }: { mask?: boolean } = {}): void {
    const header: number[] = [0x80 | opcode];
    const maskBit = mask ? 0x80 : 0;
    if (payload.length < 126) header.push(maskBit | payload.length);
    else if (payload.length < 65536) header.push(maskBit | 126, payload.length >> 8, payload.length & 0xff);
    else {
      header.push(maskBit | 127);
      const length = Buffer.alloc(8);
      length.writeBigUInt64BE(BigInt(payload.length));
      header.push(...length);
    }
    if (!mask) {
      this.socket.write(Buffer.concat([Buffer.from(header), payload]));
      return;
    }
    const key = randomBytes(4);
    const masked = Buffer.from(payload);
    for (let index = 0; index < masked.length; index++) masked[index]! ^= key[index % 4]!;
    this.socket.write(Buffer.concat([Buffer.from(header), key, masked]));
  }

  /**
   * The code of the close frame the server sends, once the connection has ended; `undefined`
   * if it ended without one. Frames before the close (output, control messages) are skipped.
   */
  async closeCode(): Promise<number | undefined> {
    await this.#until(() => this.#ended);
    let offset = 0;
    const data = this.#received;
    while (offset + 2 <= data.length) {
      const opcode = data[offset]! & 0x0f;
      let length = data[offset + 1]! & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        length = data.readUInt16BE(start);
        start += 2;
      } else if (length === 127) {
        length = Number(data.readBigUInt64BE(start));
        start += 8;
      }
      if (opcode === 0x8) return length >= 2 ? data.readUInt16BE(start) : undefined;
      offset = start + length;
    }
    return undefined;
  }

  destroy(): void {
    this.socket.destroy();
  }

  async #until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
