import { gzipSync } from 'node:zlib';
import type { BuildToolFinding, FileFacts, ImageFacts, LayerFacts } from '../../../runner/src/grader/types.js';

/** Hand-built inputs for the grader's pure parts: tarballs, ELF heads, and ImageFacts. */

import { makeTar } from '../../support/tar.js';

export { makeTar, type TarEntry } from '../../support/tar.js';

export { gzipSync };

/** Yields a buffer in small pieces, as a socket would, so parsers meet split boundaries. */
export async function* inPieces(buffer: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

/** A 64-bit little-endian ELF head; with `interpreter`, a PT_INTERP program header names it. */
export function elfHead(options: { interpreter?: string; type?: number; goNote?: boolean } = {}): Buffer {
  const head = Buffer.alloc(4096);
  head.write('\x7fELF', 0, 'latin1');
  head[4] = 2;
  head[5] = 1;
  head[6] = 1;
  head.writeUInt16LE(options.type ?? 2, 16);
  head.writeBigUInt64LE(64n, 32);
  head.writeUInt16LE(56, 54);
  head.writeUInt16LE(options.interpreter ? 1 : 0, 56);
  if (options.interpreter) {
    const text = `${options.interpreter}\0`;
    head.writeUInt32LE(3, 64);
    head.writeBigUInt64LE(512n, 72);
    head.writeBigUInt64LE(BigInt(text.length), 96);
    head.write(text, 512, 'latin1');
  }
  if (options.goNote) head.write('\x04\x00\x00\x00Go\x00\x00', 1000, 'latin1');
  return head;
}

export function goBuildInfo(mainPath: string, version = 'go1.24.4'): Buffer {
  const sentinel = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
  const modInfo = Buffer.concat([sentinel, Buffer.from(`path\t${mainPath}\nbuild\t-compiler=gc\n`), Buffer.from('f932433186182072008242104116d8f2', 'hex')]);
  const header = Buffer.alloc(32);
  header.write('\xff Go buildinf:', 0, 'latin1');
  header[14] = 8;
  header[15] = 2;
  return Buffer.concat([header, Buffer.from([version.length]), Buffer.from(version), uvarint(modInfo.length), modInfo]);
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

/** A Go binary as cmd/link lays it out: notes in the head, build info far into the file. */
export function goBinary(mainPath: string, padding = 200_000): Buffer {
  return Buffer.concat([elfHead({ goNote: true }), Buffer.alloc(padding, 0x90), goBuildInfo(mainPath), Buffer.alloc(5000)]);
}

export function nativeBinary(strings: string[], options: { interpreter?: string } = {}): Buffer {
  return Buffer.concat([elfHead(options), Buffer.alloc(100_000, 0x41), ...strings.map((text) => Buffer.from(`\0${text}\0`)), Buffer.alloc(1000)]);
}

const MB = 1e6;

export function layer(index: number, overrides: Partial<LayerFacts> = {}): LayerFacts {
  return { index, diffId: `sha256:${String(index).repeat(64).slice(0, 64)}`, sizeBytes: MB, entryCount: 10, compression: 'none', addedBuildTools: [], entries: [], whiteouts: [], opaqueDirectories: [], ...overrides };
}

export function tool(overrides: Partial<BuildToolFinding> & Pick<BuildToolFinding, 'family' | 'tool' | 'path'>): BuildToolFinding {
  return { evidence: 'test evidence', addedInLayer: 0, aliases: [], ...overrides };
}

export function facts(overrides: Partial<ImageFacts> = {}, files: FileFacts[] = []): ImageFacts {
  return {
    ref: 'lesson-7',
    id: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    sizeBytes: 5 * MB,
    config: { user: '', entrypoint: ['/hello'], cmd: null, env: [], exposedPorts: ['8080/tcp'], workingDir: '', labels: {} },
    layers: [layer(0, { instruction: 'COPY /out/hello /hello' })],
    buildTools: [],
    files: new Map(files.map((file) => [file.path, file])),
    archiveLayout: 'oci',
    history: [],
    probes: {},
    ...overrides,
  };
}

/** A `docker save` archive in the older layout (manifest.json, <n>/layer.tar), one RUN row per layer. */
export async function legacyArchive(layerTars: Buffer[]): Promise<Buffer> {
  const config = { rootfs: { type: 'layers', diff_ids: layerTars.map((_, index) => `sha256:${String(index).repeat(64)}`) }, history: layerTars.map((_, index) => ({ created_by: `RUN step ${index}` })) };
  return await makeTar([
    { name: 'manifest.json', content: JSON.stringify([{ Config: 'config.json', RepoTags: ['lesson-6-vault:latest'], Layers: layerTars.map((_, index) => `${index}/layer.tar`) }]) },
    { name: 'config.json', content: JSON.stringify(config) },
    ...layerTars.map((content, index) => ({ name: `${index}/layer.tar`, content })),
  ]);
}
