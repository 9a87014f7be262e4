import path from 'node:path';
import type { BuildToolFamily, FileIdentity } from '../types.js';
import { ElfLinkingReader, readElfHeader, type ElfHeader } from './elf.js';

/**
 * Tells what an executable is from its bytes, so a build tool is found wherever it sits and
 * whatever it is called. Names are used as well, but only when the bytes say nothing.
 *
 * Memory stays bounded: the first 4 KiB (ELF header, program headers, notes) are kept, then
 * the rest streams past a small window searched for a few signatures:
 * - Go binaries carry build info (`\xff Go buildinf:`, Go 1.18+ inline format) whose `path`
 *   line names the main package; the toolchain's are `cmd/go`, `cmd/compile`, `cmd/link`...
 *   (see `go version -m`; the format is in the Go source, debug/buildinfo/buildinfo.go).
 *   They also have a "Go" ELF note in the first page, which tells us early.
 * - gcc's driver, its compiler proper (cc1, cc1plus, lto1) and collect2, GNU make and git
 *   are told apart by strings that only they contain (checked on Debian trixie's builds).
 */

const headBytes = 4096;
/** Bytes after the build-info magic that hold the version and the start of the module info. */
const buildInfoSpan = 1024;

const goBuildInfoMagic = Buffer.from('\xff Go buildinf:', 'latin1');
/** Note type 4 (the Go build id) followed by the note name "Go", as little-endian ELF writes it. */
const goBuildIdNote = Buffer.from('\x04\x00\x00\x00Go\x00\x00', 'latin1');
const goModInfoSentinel = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');

interface Signature {
  id: string;
  bytes: Buffer;
}

const nativeSignatures: readonly Signature[] = [
  { id: 'gcc-driver-usage', bytes: Buffer.from('Usage: %s [options] file...') },
  { id: 'collect-gcc', bytes: Buffer.from('COLLECT_GCC') },
  { id: 'gnu-gimple', bytes: Buffer.from('GNU GIMPLE') },
  { id: 'collect2-version', bytes: Buffer.from('collect2 version %s') },
  { id: 'gnu-make', bytes: Buffer.from('GNU Make') },
  { id: 'git-exec-path', bytes: Buffer.from('GIT_EXEC_PATH') },
  { id: 'busybox', bytes: Buffer.from('BusyBox v') },
];

/** Build tools by name, for executables whose bytes we do not recognise. */
const toolNamePatterns: ReadonlyArray<{ family: BuildToolFamily; pattern: RegExp }> = [
  { family: 'go', pattern: /^(go|gofmt)$/ },
  // gcc, cc, g++, gcc-14, x86_64-linux-gnu-gcc-14; not gcc-ar or gcc-nm (binutils wrappers).
  { family: 'c-compiler', pattern: /^(?:[a-z0-9_]+(?:-[a-z0-9_]+)*-)?(?:gcc|g\+\+|cc|c\+\+)(?:-\d+(?:\.\d+)*)?$|^(cc1|cc1plus|lto1|collect2)$/ },
  { family: 'make', pattern: /^g?make$/ },
  { family: 'git', pattern: /^git$/ },
];

const goToolDirectory = /(^|\/)pkg\/tool\/[^/]+\/[^/]+$/;

export function buildToolByName(filePath: string): { family: BuildToolFamily; tool: string } | undefined {
  const name = path.posix.basename(filePath);
  if (goToolDirectory.test(filePath)) return { family: 'go', tool: name };
  for (const { family, pattern } of toolNamePatterns) if (pattern.test(name)) return { family, tool: name };
  return undefined;
}

/** cmd/link writes a "Go" note (type 4, the build id) into the first page of every Go binary. */
function isGoBinary(head: Buffer): boolean {
  return head.indexOf(goBuildIdNote) !== -1;
}

/** Reads a uvarint as encoding/binary writes it; undefined when it runs past the buffer. */
function readUvarint(buffer: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let shift = 0;
  for (let index = at; index < buffer.length && index < at + 10; index++) {
    const byte = buffer[index]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value, next: index + 1 };
    shift += 7;
  }
  return undefined;
}

/**
 * The main package path from Go build info starting at the magic. Undefined when the bytes
 * only look like the magic (cmd/link contains the magic string itself) or use the pre-1.18
 * pointer format, which needs the whole file to follow.
 */
export function parseGoBuildInfo(bytes: Buffer): { version: string; mainPath?: string } | undefined {
  if (bytes.length < 34 || !bytes.subarray(0, goBuildInfoMagic.length).equals(goBuildInfoMagic)) return undefined;
  const pointerSize = bytes[14];
  const flags = bytes[15]!;
  if ((pointerSize !== 4 && pointerSize !== 8) || (flags & 2) === 0) return undefined;
  const versionLength = readUvarint(bytes, 32);
  if (!versionLength || versionLength.value > 64) return undefined;
  const version = bytes.subarray(versionLength.next, versionLength.next + versionLength.value).toString('latin1');
  if (!/^(go\d|devel)/.test(version)) return undefined;
  const modInfoLength = readUvarint(bytes, versionLength.next + versionLength.value);
  if (!modInfoLength) return { version };
  const modInfo = bytes.subarray(modInfoLength.next, modInfoLength.next + Math.min(modInfoLength.value, buildInfoSpan));
  const text = modInfo.subarray(0, goModInfoSentinel.length).equals(goModInfoSentinel)
    ? modInfo.subarray(goModInfoSentinel.length).toString('utf8')
    : '';
  const mainPath = /^path\t([^\n]+)\n/.exec(text)?.[1];
  return mainPath ? { version, mainPath } : { version };
}

/**
 * Watches one file's bytes go by and says what it is. Feed every chunk to `push`, then call
 * `finish`. Undefined means "nothing worth recording" (not an executable).
 */
export class ExecutableIdentifier {
  readonly #path: string;
  readonly #mode: number;
  #head: Buffer[] = [];
  #headLength = 0;
  #elf: ElfHeader | undefined;
  #isGo = false;
  /** How the program is linked, read as its bytes go by (facts/elf.ts). */
  #linking: ElfLinkingReader | undefined;
  #isScript = false;
  #isDecided = false;
  #isScanning = false;
  #signatures: readonly Signature[] = [];
  #carry: Buffer = Buffer.alloc(0);
  #found = new Set<string>();
  #goMainPath: string | undefined;
  #goVersion: string | undefined;

  constructor(filePath: string, mode: number) {
    this.#path = filePath;
    this.#mode = mode;
  }

  push(chunk: Buffer): void {
    if (!this.#isDecided) {
      this.#head.push(chunk);
      this.#headLength += chunk.length;
      if (this.#headLength < headBytes) return;
      this.#decide();
      return;
    }
    this.#linking?.push(chunk);
    if (this.#isScanning) this.#scan(chunk, false);
  }

  finish(): FileIdentity | undefined {
    if (!this.#isDecided) this.#decide();
    if (this.#isScanning) this.#scan(Buffer.alloc(0), true);
    return this.#identity();
  }

  /** Looks at the head, then scans what followed it in the same chunks. */
  #decide(): void {
    this.#isDecided = true;
    const all = Buffer.concat(this.#head);
    this.#head = [];
    const head = all.subarray(0, headBytes);
    this.#isScript = head[0] === 0x23 && head[1] === 0x21; // "#!"
    if (this.#isScript) {
      this.#carry = Buffer.from(head.subarray(0, 256));
      return;
    }
    this.#elf = readElfHeader(head);
    const isExecutable = (this.#mode & 0o111) !== 0 || this.#elf?.isExecutable === true;
    if (!this.#elf || !isExecutable) {
      this.#elf = undefined;
      return;
    }
    this.#isGo = isGoBinary(head);
    this.#linking = new ElfLinkingReader(this.#elf);
    this.#linking.push(all);
    this.#isScanning = true;
    this.#signatures = this.#isGo ? [] : nativeSignatures;
    this.#scan(all, false);
  }

  /**
   * Searches without copying whole chunks: a small seam (what is left of the previous chunk
   * plus the head of this one) for matches that straddle the boundary, then the chunk
   * itself. Build info needs `keep` bytes after its magic, so a magic found too close to the
   * end waits in the carry for the next chunk.
   */
  #scan(chunk: Buffer, isLast: boolean): void {
    const keep = buildInfoSpan + goBuildInfoMagic.length;
    const seam = Buffer.concat([this.#carry, chunk.subarray(0, keep)]);
    for (const signature of this.#signatures) {
      if (this.#found.has(signature.id)) continue;
      if (seam.indexOf(signature.bytes) !== -1 || chunk.indexOf(signature.bytes) !== -1) this.#found.add(signature.id);
    }
    // A native binary (no Go note) has no Go build info: once its strings decide, stop.
    if (this.#signatures.length && this.#nativeIdentity()) return this.#stopScanning();

    const seamLimit = isLast ? seam.length : Math.min(this.#carry.length, Math.max(0, seam.length - keep));
    if (this.#findBuildInfo(seam, seamLimit)) return this.#stopScanning();
    if (seamLimit < this.#carry.length) {
      // The chunk is too short to settle the carry's tail: keep both (at most `keep` bytes).
      this.#carry = Buffer.concat([this.#carry.subarray(seamLimit), chunk]);
      return;
    }
    const chunkLimit = isLast ? chunk.length : Math.max(0, chunk.length - keep);
    if (this.#findBuildInfo(chunk, chunkLimit)) return this.#stopScanning();
    // Copy, so the carry does not keep a whole chunk alive.
    this.#carry = Buffer.from(chunk.subarray(chunkLimit));
  }

  /** Looks for valid build info starting before `limit`; true once found. */
  #findBuildInfo(bytes: Buffer, limit: number): boolean {
    for (let from = 0; from < limit; ) {
      const at = bytes.indexOf(goBuildInfoMagic, from);
      if (at === -1 || at >= limit) return false;
      const parsed = parseGoBuildInfo(bytes.subarray(at, at + goBuildInfoMagic.length + buildInfoSpan));
      if (parsed) {
        this.#goVersion = parsed.version;
        this.#goMainPath = parsed.mainPath;
        return true;
      }
      from = at + 1;
    }
    return false;
  }

  #stopScanning(): void {
    this.#isScanning = false;
    this.#carry = Buffer.alloc(0);
  }

  #identity(): FileIdentity | undefined {
    if (this.#isScript) {
      const firstLine = this.#carry.toString('latin1').split('\n')[0]!.slice(2).trim();
      return this.#byName() ?? { kind: 'script', interpreter: firstLine.slice(0, 120) };
    }
    if (!this.#elf) return (this.#mode & 0o111) !== 0 ? this.#byName() : undefined;
    if (this.#goMainPath?.startsWith('cmd/')) {
      return {
        kind: 'build-tool',
        family: 'go',
        tool: path.posix.basename(this.#goMainPath),
        evidence: `Go build info names ${this.#goMainPath} (${this.#goVersion})`,
      };
    }
    const linking = this.#linking?.finish();
    const loader = { ...(this.#elf.interpreter ? { interpreter: this.#elf.interpreter } : {}), ...(linking ? { linking } : {}) };
    if (this.#goMainPath) {
      // A cgo build is linked dynamically: its loader matters when it lands on scratch.
      return { kind: 'go-program', mainPath: this.#goMainPath, ...loader };
    }
    return this.#nativeIdentity() ?? this.#byName() ?? { kind: 'elf', ...loader };
  }

  #nativeIdentity(): FileIdentity | undefined {
    const found = (id: string) => this.#found.has(id);
    if (found('busybox')) return { kind: 'busybox' };
    if (found('gcc-driver-usage') && found('collect-gcc')) {
      return { kind: 'build-tool', family: 'c-compiler', tool: 'gcc', evidence: 'contains the gcc driver\'s usage text' };
    }
    if (found('gnu-gimple') && found('collect-gcc')) {
      const name = path.posix.basename(this.#path);
      const tool = /^(cc1|cc1plus|lto1)$/.test(name) ? name : 'cc1';
      return { kind: 'build-tool', family: 'c-compiler', tool, evidence: 'contains gcc\'s compiler proper (GIMPLE)' };
    }
    if (found('collect2-version')) {
      return { kind: 'build-tool', family: 'c-compiler', tool: 'collect2', evidence: 'is gcc\'s collect2' };
    }
    if (found('gnu-make')) return { kind: 'build-tool', family: 'make', tool: 'make', evidence: 'contains "GNU Make"' };
    if (found('git-exec-path')) return { kind: 'build-tool', family: 'git', tool: 'git', evidence: 'contains git\'s GIT_EXEC_PATH' };
    return undefined;
  }

  #byName(): FileIdentity | undefined {
    const match = buildToolByName(this.#path);
    if (!match) return undefined;
    return { kind: 'build-tool', family: match.family, tool: match.tool, evidence: `an executable named ${path.posix.basename(this.#path)}` };
  }
}
