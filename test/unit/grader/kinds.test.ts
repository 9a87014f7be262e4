import { describe, expect, it } from 'vitest';
import { buildToolsAbsent } from '../../../runner/src/grader/kinds/build-tools-absent.js';
import { httpResponds } from '../../../runner/src/grader/kinds/http-responds.js';
import { checkKinds } from '../../../runner/src/grader/kinds/index.js';
import { maxLayers } from '../../../runner/src/grader/kinds/max-layers.js';
import { maxSize } from '../../../runner/src/grader/kinds/max-size.js';
import { runsAsNonRoot } from '../../../runner/src/grader/kinds/runs-as-non-root.js';
import type { FileFacts, HttpProbeResult } from '../../../runner/src/grader/types.js';
import { facts, layer, tool } from './builders.js';

const MB = 1e6;
const allFamilies = { families: ['go', 'c-compiler', 'make', 'git'] as ['go', 'c-compiler', 'make', 'git'] };
const probeRequest = { port: 8080, paths: ['/healthz', '/'], withinMs: 5000 };
const httpParams = httpResponds.params.parse({ port: 8080, requests: [{ path: '/healthz', body: 'ok' }, { path: '/' }], withinMs: 5000 });

describe('max-size', () => {
  it('passes at the limit and fails above it, naming the largest layer', () => {
    expect(maxSize.evaluate(facts({ sizeBytes: 20 * MB }), { bytes: 20 * MB })).toMatchObject({ status: 'pass', actual: '20 MB' });
    const fat = facts({
      sizeBytes: 719 * MB,
      layers: [layer(0, { sizeBytes: 78 * MB, instruction: 'ADD rootfs /' }), layer(1, { sizeBytes: 548 * MB, instruction: 'RUN apt-get install golang-go' })],
    });
    const outcome = maxSize.evaluate(fat, { bytes: 20 * MB });
    expect(outcome).toMatchObject({ status: 'fail', expected: 'at most 20 MB', actual: '719 MB' });
    expect(outcome.message).toBe('The image is 719 MB, 699 MB over the limit of 20 MB; the largest is layer 2 (`RUN apt-get install golang-go`) with 548 MB.');
  });

  it('rejects a limit that is not a positive whole number', () => {
    expect(maxSize.params.safeParse({ bytes: -1 }).success).toBe(false);
    expect(maxSize.params.safeParse({ bytes: 20, extra: 1 }).success).toBe(false);
  });
});

describe('max-layers', () => {
  it('counts layers and lists them when there are too many', () => {
    const many = facts({ layers: [0, 1, 2].map((index) => layer(index, { instruction: `RUN step ${index}` })) });
    expect(maxLayers.evaluate(many, { count: 3 })).toMatchObject({ status: 'pass', actual: '3 layers' });
    const outcome = maxLayers.evaluate(many, { count: 2 });
    expect(outcome).toMatchObject({ status: 'fail', expected: 'at most 2 layers', actual: '3 layers' });
    expect(outcome.message).toContain('layer 3 (`RUN step 2`)');
  });
});

describe('build-tools-absent', () => {
  it('passes when no tool of the families is found', () => {
    expect(buildToolsAbsent.evaluate(facts(), allFamilies)).toMatchObject({ status: 'pass', actual: 'none found' });
  });

  it('ignores families it was not asked about', () => {
    const withGit = facts({ buildTools: [tool({ family: 'git', tool: 'git', path: '/usr/bin/git' })] });
    expect(buildToolsAbsent.evaluate(withGit, { families: ['go'] }).status).toBe('pass');
  });

  it('reports a deleted tool as shipped, naming the layer that added it and the one that hides it', () => {
    const image = facts({
      layers: [layer(0, { instruction: 'COPY --from=build /usr/lib/go/bin/gofmt /opt/gofmt' }), layer(1, { instruction: 'RUN rm /opt/gofmt' })],
      buildTools: [tool({ family: 'go', tool: 'gofmt', path: '/opt/gofmt', addedInLayer: 0, hiddenInLayer: 1, hiddenBy: 'whiteout', evidence: 'Go build info names cmd/gofmt' })],
    });
    const outcome = buildToolsAbsent.evaluate(image, allFamilies);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'the Go toolchain (1 file)' });
    expect(outcome.message).toBe(
      'The Go toolchain ships (1 file): /opt/gofmt (Go build info names cmd/gofmt); added by layer 1 (`COPY --from=build /usr/lib/go/bin/gofmt /opt/gofmt`), deleted by layer 2 (`RUN rm /opt/gofmt`), yet still shipped in layer 1.',
    );
  });

  it('summarises many tools per family and layer', () => {
    const tools = Array.from({ length: 5 }, (_, index) => tool({ family: 'go', tool: `t${index}`, path: `/go/t${index}`, addedInLayer: 1 }));
    const image = facts({ layers: [layer(0), layer(1, { instruction: 'RUN apt-get install golang-go' })], buildTools: [...tools, tool({ family: 'make', tool: 'make', path: '/usr/bin/make', addedInLayer: 1 })] });
    const outcome = buildToolsAbsent.evaluate(image, allFamilies);
    expect(outcome.actual).toBe('the Go toolchain (5 files), make (1 file)');
    expect(outcome.message).toContain('and 2 more; all added by layer 2');
  });

  it('cannot pass when a layer could not be read', () => {
    const image = facts({ layers: [layer(0, { unreadable: 'it is compressed with zstd' })] });
    expect(buildToolsAbsent.evaluate(image, allFamilies)).toMatchObject({ status: 'skip', message: expect.stringContaining('zstd') });
  });
});

describe('http-responds', () => {
  const withProbe = (http: HttpProbeResult, files: FileFacts[] = [], config = {}) =>
    facts({ probes: { http }, config: { ...facts().config, ...config } }, files);

  it('asks for the probe it needs', () => {
    expect(httpResponds.probes?.(httpParams)).toEqual({ http: probeRequest });
  });

  it("passes when every path answers as the service's do", () => {
    const answers = [
      { path: '/healthz', statusCode: 200, bodyStart: 'ok\n' },
      { path: '/', statusCode: 200, bodyStart: 'Hello from Layerlab, lesson 7!\n' },
    ];
    expect(httpResponds.evaluate(withProbe({ ...probeRequest, outcome: 'answered', answers, afterMs: 40 }), httpParams)).toMatchObject({
      status: 'pass',
      actual: 'GET /healthz: 200 "ok", GET /: 200, first answer after 40 ms',
    });
  });

  it('fails any other program that speaks HTTP on the port', () => {
    const judge = (answers: Array<{ path: string; statusCode: number; bodyStart: string } | { path: string; error: string }>) =>
      httpResponds.evaluate(withProbe({ ...probeRequest, outcome: 'answered', answers, afterMs: 40 }), httpParams);
    const notFound = judge([
      { path: '/healthz', statusCode: 404, bodyStart: '404 Not Found' },
      { path: '/', statusCode: 404, bodyStart: '' },
    ]);
    expect(notFound.status).toBe('fail');
    expect(notFound.message).toBe('Something answers HTTP on port 8080, but not as the service does: GET /healthz answered 404 "404 Not Found", not 200. GET / answered 404, not 200.');
    expect(judge([{ path: '/healthz', statusCode: 200, bodyStart: '<html>' }, { path: '/', statusCode: 200, bodyStart: '' }]).message).toContain('GET /healthz answered 200 with "<html>", not "ok".');
    expect(judge([{ path: '/healthz', statusCode: 200, bodyStart: 'ok' }, { path: '/', error: 'connection refused' }]).message).toContain('GET / got no answer (connection refused).');
    expect(judge([{ path: '/healthz', statusCode: 200, bodyStart: 'ok' }]).status).toBe('fail');
  });

  it('asks for every path, in order', () => {
    expect(httpResponds.params.safeParse({ port: 8080, requests: [], withinMs: 5000 }).success).toBe(false);
    expect(httpResponds.params.parse({ port: 8080, requests: [{ path: '/' }], withinMs: 5000 }).requests[0]).toEqual({ path: '/', status: 200 });
  });

  it('explains a dynamically linked binary whose loader is missing', () => {
    const server: FileFacts = { path: 'hello', type: 'file', sizeBytes: 1, mode: 0o755, layer: 0, identity: { kind: 'elf', interpreter: '/lib64/ld-linux-x86-64.so.2' } };
    const outcome = httpResponds.evaluate(withProbe({ ...probeRequest, outcome: 'exited', exitCode: 255, logTail: 'exec /hello: no such file or directory', afterMs: 30 }, [server]), httpParams);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'the container exited with code 255' });
    expect(outcome.message).toContain('exec /hello: no such file or directory');
    expect(outcome.message).toContain('/hello is linked dynamically: it needs the loader /lib64/ld-linux-x86-64.so.2, which is not in the image.');
  });

  it('explains a cgo-built Go program whose loader is missing', () => {
    const server: FileFacts = { path: 'hello', type: 'file', sizeBytes: 1, mode: 0o755, layer: 0, identity: { kind: 'go-program', mainPath: 'example.com/hello', interpreter: '/lib64/ld-linux-x86-64.so.2' } };
    const loader: FileFacts = { path: 'lib64/ld-linux-x86-64.so.2', type: 'file', sizeBytes: 1, mode: 0o755, layer: 0 };
    const exited = { ...probeRequest, outcome: 'exited', exitCode: 1, logTail: '', afterMs: 30 } as const;
    expect(httpResponds.evaluate(withProbe(exited, [server]), httpParams).message).toContain('/hello is linked dynamically');
    expect(httpResponds.evaluate(withProbe(exited, [server, loader]), httpParams).message).not.toContain('linked dynamically');
  });

  it('explains an entrypoint that is not in the image', () => {
    const outcome = httpResponds.evaluate(withProbe({ ...probeRequest, outcome: 'not-started', reason: 'exec: "/app": stat /app: no such file or directory' }, [], { entrypoint: ['/app'] }), httpParams);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'the container did not start' });
    expect(outcome.message).toContain('The image has no /app, the program its ENTRYPOINT names.');
  });

  it('says when nothing answered in time', () => {
    const outcome = httpResponds.evaluate(withProbe({ ...probeRequest, outcome: 'timed-out', logTail: '', lastError: 'connection refused' }), httpParams);
    expect(outcome).toMatchObject({ status: 'fail', actual: 'no answer within 5 s' });
    expect(outcome.message).toContain('last try: connection refused');
  });

  it('skips when the probe did not run', () => {
    expect(httpResponds.evaluate(facts(), httpParams).status).toBe('skip');
  });
});

describe('runs-as-non-root', () => {
  const passwd: FileFacts = {
    path: 'etc/passwd',
    type: 'file',
    sizeBytes: 0,
    mode: 0o644,
    layer: 0,
    content: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000::/app:/bin/sh\nadmin:x:0:0:admin:/root:/bin/sh\n'),
  };
  const judge = (user: string, files: FileFacts[] = [passwd]) => runsAsNonRoot.evaluate(facts({ config: { ...facts().config, user } }, files), {});

  it('fails for root in any spelling and passes for anyone else', () => {
    for (const user of ['', 'root', '0', '0:0', 'root:staff', '0000', '+0', '00:65534', ':1000', 'admin', 'admin:app']) {
      expect(judge(user).status, user).toBe('fail');
    }
    for (const user of ['65532', '65532:65532', 'app', 'nobody:0', '1000:root']) {
      expect(judge(user).status, user).toBe('pass');
    }
  });

  it('looks a name up in /etc/passwd, as runc does when the container starts', () => {
    expect(judge('admin').message).toBe('The image sets USER admin: /etc/passwd gives admin uid 0, root\'s, so its process runs as root.');
    expect(judge('0000').message).toBe("The image sets USER 0000: 0000 is uid 0, root's, so its process runs as root.");
    expect(judge('ghost').message).toContain('/etc/passwd has no user ghost, so no container can start from it');
    expect(judge('app', []).message).toContain('it has no /etc/passwd to look that name up in');
    expect(judge('65532', []).status).toBe('pass');
  });

  it('cannot decide, and does not pass, when /etc/passwd was not read', () => {
    const { content: _content, ...unread } = passwd;
    expect(judge('app', [{ ...unread, sizeBytes: 100_000 }])).toMatchObject({ status: 'skip', message: expect.stringContaining('Could not tell who app is') });
  });

  it('asks for /etc/passwd', () => {
    expect(runsAsNonRoot.probes?.({})).toEqual({ fileContents: ['/etc/passwd'] });
  });
});

describe('the kind registry', () => {
  it('has a summary and a strict schema for every kind', () => {
    for (const [name, kind] of Object.entries(checkKinds)) {
      expect(kind.summary, name).not.toBe('');
      expect(kind.params.safeParse({ unexpected: true }).success, name).toBe(false);
    }
  });
});
