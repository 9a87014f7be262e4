import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { usageError } from '../errors.js';
import { createServerCertificate, fingerprintOf, isCertificateUsable, type ServerCertificate } from './certificate.js';
import { startClassServer, type ClassServer } from './server.js';
import { ClassStore, type ExerciseDescription } from './store.js';

/**
 * The core of `course class serve`: opens (or creates) the class database, decides HTTP or
 * HTTPS from the address, makes or reuses the certificate, and starts the server.
 */
export interface OpenClassOptions {
  dbFile: string;
  /** 127.0.0.1 unless the instructor says otherwise; any other address gets HTTPS. */
  listen: string;
  port: number;
  siteDir: string;
  exercises: readonly ExerciseDescription[];
  log?: (text: string) => void;
}

export interface OpenClass {
  server: ClassServer;
  store: ClassStore;
  dbFile: string;
  /** Set when the class is served over HTTPS. */
  fingerprint?: string;
  close(): Promise<void>;
}

export const defaultClassPort = 4848;

export function defaultClassDb(dataDir: string): string {
  return path.join(dataDir, 'class-server', 'class.sqlite');
}

/** Only these stay on plain HTTP: nothing leaves the machine. */
export function isLoopbackOnly(address: string): boolean {
  return address === '127.0.0.1' || address === '::1' || address === 'localhost';
}

export function parseListenAddress(text: string): string {
  const address = text.trim();
  if (address === 'localhost') return '127.0.0.1';
  if (!isIP(address)) {
    throw usageError(`--listen "${text}" is not an IP address.`, 'Give one of this machine\'s addresses, e.g. --listen 192.168.1.20, or --listen 0.0.0.0 for every network.');
  }
  return address;
}

/** The address learners can reach: the one listened on, or this machine's first network address for "any". */
export function advertisedAddress(listen: string): string {
  if (listen !== '0.0.0.0' && listen !== '::') return listen;
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}

export async function openClass(options: OpenClassOptions): Promise<OpenClass> {
  const store = ClassStore.open(options.dbFile);
  try {
    const advertisedHost = advertisedAddress(options.listen);
    const certificate = isLoopbackOnly(options.listen) ? undefined : await certificateFor(store, [advertisedHost, options.listen]);
    const server = await startClassServer({
      store,
      exercises: options.exercises,
      siteDir: options.siteDir,
      listen: options.listen,
      advertisedHost,
      port: options.port,
      ...(certificate ? { certificate } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    return {
      server,
      store,
      dbFile: options.dbFile,
      ...(certificate ? { fingerprint: certificate.fingerprint } : {}),
      async close() {
        await server.close();
        store.close();
      },
    };
  } catch (error) {
    store.close();
    throw error;
  }
}

/** The class keeps one certificate, so the join link (its fingerprint) survives restarts. */
async function certificateFor(store: ClassStore, addresses: string[]): Promise<ServerCertificate> {
  const key = store.readSetting('tlsKey');
  const cert = store.readSetting('tlsCert');
  if (key && cert && isCertificateUsable(cert)) return { key, cert, fingerprint: fingerprintOf(cert) };
  const made = await createServerCertificate(addresses.filter((address) => address !== '0.0.0.0' && address !== '::'));
  store.writeSetting('tlsKey', made.key);
  store.writeSetting('tlsCert', made.cert);
  return made;
}
