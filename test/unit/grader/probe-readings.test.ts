import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { logTailOf, publishedPortOf, requestOnce } from '../../../runner/src/grader/facts/http-probe.js';
import { engineMessage, probeContainerOptions, staleProbeIds } from '../../../runner/src/grader/facts/probe-container.js';
import { outputOfLogs } from '../../../runner/src/grader/facts/run-probe.js';
import { useLocalServers } from '../../support/local-servers.js';

// How the run and HTTP probes read what the engine sends (inspect data, multiplexed logs,
// the container list), on answers recorded once from a real engine
// (test/fixtures/probes/README.md), and how they ask a service over real HTTP on this machine.

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/probes/${name}`, import.meta.url));
const inspected = JSON.parse(fixture('container-inspect-published.json').toString()) as Docker.ContainerInspectInfo;

describe('the published port', () => {
  it("is the engine's host port for the container's port", () => {
    expect(publishedPortOf(inspected, '8080/tcp')).toBe(32768);
  });

  it('is the IPv4 binding where the engine lists IPv6 as well, whichever comes first', () => {
    const ports = (bindings: Array<{ HostIp: string; HostPort: string }>) => ({ NetworkSettings: { ...inspected.NetworkSettings, Ports: { '8080/tcp': bindings } } });
    expect(publishedPortOf(ports([{ HostIp: '::', HostPort: '40001' }, { HostIp: '0.0.0.0', HostPort: '40002' }]), '8080/tcp')).toBe(40002);
    expect(publishedPortOf(ports([{ HostIp: '0.0.0.0', HostPort: '40002' }, { HostIp: '::', HostPort: '40001' }]), '8080/tcp')).toBe(40002);
    expect(publishedPortOf(ports([{ HostIp: '::', HostPort: '40001' }]), '8080/tcp')).toBe(40001);
    expect(publishedPortOf(ports([]), '8080/tcp')).toBeUndefined();
  });

  it('is missing for a port the engine did not publish', () => {
    expect(publishedPortOf(inspected, '80/tcp')).toBeUndefined();
    expect(publishedPortOf({ NetworkSettings: { ...inspected.NetworkSettings, Ports: null as unknown as Docker.ContainerInspectInfo['NetworkSettings']['Ports'] } }, '8080/tcp')).toBeUndefined();
  });
});

describe('what a probed container said', () => {
  // `sh -c 'echo out-1; echo err-1 >&2; printf "out-2\n"; echo err-2 >&2; exit 3'`
  const bothStreams = fixture('logs-both-streams.bin');
  // 300 lines on standard output, then "last-err" on standard error; the last 200 / 20 lines asked for.
  const chatty200 = fixture('logs-chatty-tail200.bin');
  const chatty20 = fixture('logs-chatty-tail20.bin');

  it("keeps a command's standard output apart from its standard error", () => {
    expect(outputOfLogs(bothStreams)).toEqual({ stdout: 'out-1\nout-2\n', stderr: 'err-1\nerr-2\n' });
  });

  it('cuts a chatty command off at 8000 characters, and says so', () => {
    const { stdout, stderr } = outputOfLogs(chatty200);
    expect(stdout).toHaveLength(8001);
    expect(stdout.startsWith('line 101 of a chatty command')).toBe(true);
    expect(stdout.endsWith('…')).toBe(true);
    expect(stdout.slice(0, -1)).not.toContain('…');
    expect(stderr).toBe('last-err\n');
    // Exactly at the cap nothing is cut.
    const { stdout: short } = outputOfLogs(chatty20);
    expect(short.length).toBeLessThan(8000);
    expect(short.endsWith('padded to be long enough ........................\n')).toBe(true);
  });

  it("shows a service's last words with both streams in the order written, the start cut off when long", () => {
    expect(logTailOf(bothStreams)).toBe('out-1\nerr-1\nout-2\nerr-2');
    const short = logTailOf(chatty20);
    expect(short.startsWith('line 281 of a chatty command')).toBe(true);
    expect(short.endsWith('........................\nlast-err')).toBe(true);
    const long = logTailOf(chatty200);
    expect(long).toHaveLength(2003);
    expect(long.startsWith('...')).toBe(true);
    expect(long.endsWith('\nlast-err')).toBe(true);
    expect(logTailOf(Buffer.alloc(0))).toBe('');
  });
});

describe('the probe containers', () => {
  it('are labelled as probes (and with the caller labels), with no terminal and no input', () => {
    const hostConfig = { NetworkMode: 'none', Memory: 1 };
    expect(probeContainerOptions({ imageId: 'sha256:abc', hostConfig, labels: { 'layerlab.test': 'run-1' } }, 'layerlab-probe-1')).toEqual({
      name: 'layerlab-probe-1',
      Image: 'sha256:abc',
      Labels: { 'layerlab.role': 'grader-probe', 'layerlab.test': 'run-1' },
      Tty: false,
      OpenStdin: false,
      HostConfig: hostConfig,
    });
    expect(probeContainerOptions({ imageId: 'i', hostConfig, cmd: ['--version'], exposedPorts: { '8080/tcp': {} } }, 'n')).toEqual({
      name: 'n',
      Image: 'i',
      Cmd: ['--version'],
      Labels: { 'layerlab.role': 'grader-probe' },
      ExposedPorts: { '8080/tcp': {} },
      Tty: false,
      OpenStdin: false,
      HostConfig: hostConfig,
    });
    // An empty argument list replaces the image's CMD too (`docker run IMAGE` with no arguments does not).
    expect(probeContainerOptions({ imageId: 'i', hostConfig, cmd: [] }, 'n').Cmd).toEqual([]);
  });

  it("errors keep the engine's words; only a leading HTTP code is taken off", () => {
    expect(engineMessage(new Error('cannot start (HTTP code 500) server error - a - b'))).toBe('cannot start (HTTP code 500) server error - a - b');
  });

  it('left by a dead grader are those five minutes old or more', () => {
    const listed = JSON.parse(fixture('containers-list.json').toString()) as Docker.ContainerInfo[];
    const [probe] = listed;
    expect(probe).toBeDefined();
    expect(staleProbeIds(listed, probe!.Created + 299)).toEqual([]);
    expect(staleProbeIds(listed, probe!.Created + 300)).toEqual([probe!.Id]);
    const younger = { Id: 'young', Created: probe!.Created + 200 };
    expect(staleProbeIds([...listed, younger], probe!.Created + 600)).toEqual([probe!.Id, 'young']);
    expect(staleProbeIds([...listed, younger], probe!.Created + 400)).toEqual([probe!.Id]);
  });
});

describe('asking a service over HTTP', () => {
  const { listening } = useLocalServers();

  it('gives the status and the first 200 characters of the body, for the path asked', async () => {
    const paths: string[] = [];
    const port = await listening(
      http.createServer((request, response) => {
        paths.push(request.url ?? '');
        response.writeHead(418, { 'content-type': 'text/plain' });
        response.write('é'.repeat(150));
        setTimeout(() => response.end('x'.repeat(500)), 20);
      }),
    );
    const attempt = await requestOnce('127.0.0.1', port, '/healthz?full=1', 2000);
    expect(attempt).toEqual({ kind: 'answered', statusCode: 418, bodyStart: `${'é'.repeat(150)}${'x'.repeat(50)}` });
    expect(paths).toEqual(['/healthz?full=1']);
  });

  it('counts an answer whose body is cut short as an answer, with what came', async () => {
    const port = await listening(
      http.createServer((_request, response) => {
        response.writeHead(200, { 'content-length': '1000' });
        response.write(`partial${'.'.repeat(300)}`, () => setTimeout(() => response.destroy(), 20));
      }),
    );
    expect(await requestOnce('127.0.0.1', port, '/', 2000)).toEqual({ kind: 'answered', statusCode: 200, bodyStart: `partial${'.'.repeat(193)}` });
  });

  it('says the connection was refused when nothing listens', async () => {
    const closed = net.createServer();
    const port = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    expect(await requestOnce('127.0.0.1', port, '/', 2000)).toEqual({ kind: 'failed', error: 'connection refused' });
  });

  it('says the connection was closed without an answer, as the engine port proxy does when nothing listens inside', async () => {
    const port = await listening(net.createServer((socket) => socket.resetAndDestroy()));
    expect(await requestOnce('127.0.0.1', port, '/', 2000)).toEqual({
      kind: 'failed',
      error: 'the connection was closed without an answer (nothing listens on the port inside the container?)',
    });
  });

  it('gives up on a service that accepts and never answers, saying how long it waited', async () => {
    const port = await listening(net.createServer(() => {}));
    const started = performance.now();
    expect(await requestOnce('127.0.0.1', port, '/', 150)).toEqual({ kind: 'failed', error: 'no answer within 150 ms' });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('gives up when the check is stopped', async () => {
    const port = await listening(net.createServer(() => {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const attempt = await requestOnce('127.0.0.1', port, '/', 5000, controller.signal);
    expect(attempt.kind).toBe('failed');
  });
});
