import { readFile } from 'node:fs/promises';

/**
 * The local addresses of every listening TCP socket on `port`, as the kernel has them
 * (/proc/net/tcp and tcp6): what a server really bound, not what it says it bound.
 * IPv4 as dotted quads, IPv6 as eight hex groups ("0:0:0:0:0:0:0:0" is every address).
 */
export async function listeningAddresses(port: number): Promise<string[]> {
  const addresses: string[] = [];
  for (const [file, decode] of [
    ['/proc/net/tcp', decodeIpv4],
    ['/proc/net/tcp6', decodeIpv6],
  ] as const) {
    let table: string;
    try {
      table = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // no IPv6 in this kernel
      throw error;
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: TCP_LISTEN
      const [hexAddress, hexPort] = local.split(':');
      if (Number.parseInt(hexPort!, 16) === port) addresses.push(decode(hexAddress!));
    }
  }
  return addresses;
}

/** The kernel prints each 32-bit word of an address in host (little-endian) byte order. */
function wordBytes(hex: string): number[] {
  return (hex.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)).reverse();
}

function decodeIpv4(hex: string): string {
  return wordBytes(hex).join('.');
}

function decodeIpv6(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(wordBytes);
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) groups.push(((bytes[index]! << 8) | bytes[index + 1]!).toString(16));
  return groups.join(':');
}
