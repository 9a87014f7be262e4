import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import selfsigned from 'selfsigned';

/**
 * The class server's TLS certificate for a class served beyond loopback: self-signed,
 * made on this machine, and pinned by learners through the fingerprint in the join link.
 * Kept in the class database, so the join link stays valid across restarts.
 */
export interface ServerCertificate {
  key: string;
  cert: string;
  /** SHA-256, upper-case hex pairs joined by ":". */
  fingerprint: string;
}

export async function createServerCertificate(addresses: readonly string[], now: Date = new Date()): Promise<ServerCertificate> {
  const notAfter = new Date(now);
  notAfter.setFullYear(notAfter.getFullYear() + 2);
  const altNames = [...new Set(addresses)].map((address) => (isIP(address) ? { type: 7 as const, ip: address } : { type: 2 as const, value: address }));
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'Layerlab class server' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: fingerprintOf(pems.cert) };
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** A stored certificate is reused while it is valid for at least another week. */
export function isCertificateUsable(certPem: string, now: Date = new Date()): boolean {
  try {
    return Date.parse(new X509Certificate(certPem).validTo) - now.getTime() > 7 * 24 * 3600 * 1000;
  } catch {
    return false;
  }
}
