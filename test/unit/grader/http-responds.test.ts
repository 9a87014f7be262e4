import { describe, expect, it } from 'vitest';
import { httpResponds } from '../../../runner/src/grader/kinds/http-responds.js';
import { diagnoseCommand } from '../../../runner/src/grader/kinds/started-program.js';
import type { FileFacts, HttpProbeResult, ImageConfigFacts } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

// What the learner reads after the container was asked over HTTP, word for word.

const params = httpResponds.params.parse({ port: 8080, requests: [{ path: '/healthz', body: 'ok\n' }, { path: '/', status: 404 }], withinMs: 2500 });
const expected = 'on port 8080 within 2.5 s: GET /healthz → 200 "ok", GET / → 404';
const request = { port: 8080, paths: ['/healthz', '/'], withinMs: 2500 };
const image = (http: HttpProbeResult | undefined, config: Partial<ImageConfigFacts> = {}, files: FileFacts[] = []) =>
  facts({ config: { ...facts().config, entrypoint: ['/server'], cmd: null, ...config }, probes: http ? { http } : {} }, files);
const answered = (answers: Extract<HttpProbeResult, { outcome: 'answered' }>['answers']): HttpProbeResult => ({ ...request, outcome: 'answered', answers, afterMs: 1234 });
const file = (path: string, overrides: Partial<FileFacts> = {}): FileFacts => ({ path, type: 'file', sizeBytes: 10, mode: 0o755, layer: 0, ...overrides });

describe('http-responds: parameters', () => {
  it('takes a port, requests with a status of 200 by default, and a time limit', () => {
    expect(params.requests).toEqual([{ path: '/healthz', status: 200, body: 'ok\n' }, { path: '/', status: 404 }]);
    const accepts = (value: unknown) => httpResponds.params.safeParse(value).success;
    const valid = { port: 1, requests: [{ path: '/', status: 100, body: 'b'.repeat(200) }], withinMs: 60_000 };
    expect(accepts(valid)).toBe(true);
    expect(accepts({ ...valid, port: 65535, requests: [{ path: '/', status: 599 }] })).toBe(true);
    for (const wrong of [
      { port: 0 },
      { port: 65536 },
      { port: 80.5 },
      { requests: [] },
      { requests: [{ path: 'healthz' }] },
      { requests: [{ path: '/', status: 99 }] },
      { requests: [{ path: '/', status: 600 }] },
      { requests: [{ path: '/', status: 200.5 }] },
      { requests: [{ path: '/', body: 'b'.repeat(201) }] },
      { requests: [{ path: '/', extra: 1 }] },
      { withinMs: 0 },
      { withinMs: 60_001 },
      { withinMs: 1.5 },
    ]) {
      expect(accepts({ ...valid, ...wrong }), JSON.stringify(wrong)).toBe(false);
    }
  });

  it('asks for every path in order, on the port, within the time', () => {
    expect(httpResponds.probes?.(params)).toEqual({ http: request });
  });
});

describe('http-responds: verdicts', () => {
  it('skips when no container was started', () => {
    expect(httpResponds.evaluate(image(undefined), params)).toEqual({ status: 'skip', expected, actual: 'not tried', message: 'The container was not started.' });
  });

  it('passes answers with the status and body expected, trailing spaces aside', () => {
    const outcome = httpResponds.evaluate(image(answered([{ path: '/', statusCode: 404, bodyStart: 'nothing here' }, { path: '/healthz', statusCode: 200, bodyStart: 'ok \n' }])), params);
    expect(outcome).toEqual({ status: 'pass', expected, actual: 'GET /healthz: 200 "ok", GET /: 404, first answer after 1.2 s' });
  });

  it('fails each wrong answer, saying what came back', () => {
    const outcome = httpResponds.evaluate(
      image(answered([{ path: '/healthz', statusCode: 200, bodyStart: ' ok' }, { path: '/', statusCode: 200, bodyStart: '' }])),
      params,
    );
    expect(outcome).toEqual({
      status: 'fail',
      expected,
      actual: 'GET /healthz: 200 " ok", GET /: 200, first answer after 1.2 s',
      message: 'Something answers HTTP on port 8080, but not as the service does: GET /healthz answered 200 with " ok", not "ok". GET / answered 200, not 404.',
    });
    const wrongStatus = httpResponds.evaluate(image(answered([{ path: '/healthz', statusCode: 500, bodyStart: 'ok' }, { path: '/', statusCode: 404, bodyStart: '' }])), params);
    expect(wrongStatus.message).toBe('Something answers HTTP on port 8080, but not as the service does: GET /healthz answered 500 "ok", not 200.');
  });

  it('fails a path that got no answer or was not asked', () => {
    const outcome = httpResponds.evaluate(image(answered([{ path: '/healthz', error: 'socket hang up' }])), params);
    expect(outcome).toEqual({
      status: 'fail',
      expected,
      actual: 'GET /healthz: no answer, GET /: not asked, first answer after 1.2 s',
      message: 'Something answers HTTP on port 8080, but not as the service does: GET /healthz got no answer (socket hang up). GET / was not asked.',
    });
  });

  it('shortens a long body to 80 characters', () => {
    const long = 'x'.repeat(100);
    const outcome = httpResponds.evaluate(image(answered([{ path: '/healthz', statusCode: 200, bodyStart: long }, { path: '/', statusCode: 404, bodyStart: '' }])), params);
    expect(outcome.actual).toBe(`GET /healthz: 200 "${'x'.repeat(80)}…", GET /: 404, first answer after 1.2 s`);
    const exactly = 'y'.repeat(80);
    const fits = httpResponds.evaluate(image(answered([{ path: '/healthz', statusCode: 200, bodyStart: exactly }, { path: '/', statusCode: 404, bodyStart: '' }])), params);
    expect(fits.actual).toBe(`GET /healthz: 200 "${exactly}", GET /: 404, first answer after 1.2 s`);
  });

  it('fails a container that did not start, with what the image says about its program', () => {
    expect(httpResponds.evaluate(image({ ...request, outcome: 'not-started', reason: 'no such image' }), params)).toEqual({
      status: 'fail',
      expected,
      actual: 'the container did not start',
      message: 'The engine could not start a container from the image: no such image\nThe image has no /server, the program its ENTRYPOINT names.',
    });
    expect(httpResponds.evaluate(image({ ...request, outcome: 'not-started', reason: 'no such image' }, {}, [file('server')]), params).message).toBe(
      'The engine could not start a container from the image: no such image',
    );
  });

  it('fails a container that exited, with its last output indented', () => {
    const exited = (logTail: string): HttpProbeResult => ({ ...request, outcome: 'exited', exitCode: 2, logTail, afterMs: 40 });
    expect(httpResponds.evaluate(image(exited('bind: address in use\nexit'), {}, [file('server')]), params)).toEqual({
      status: 'fail',
      expected,
      actual: 'the container exited with code 2',
      message: 'The container exited with code 2 after 40 ms, before answering.\nIts last output:\n  bind: address in use\n  exit',
    });
    expect(httpResponds.evaluate(image(exited(''), {}, [file('server')]), params).message).toBe('The container exited with code 2 after 40 ms, before answering. It printed nothing.');
  });

  it('fails a container that never answered in time', () => {
    expect(httpResponds.evaluate(image({ ...request, outcome: 'timed-out', logTail: 'listening on :9090', lastError: 'connection refused' }), params)).toEqual({
      status: 'fail',
      expected,
      actual: 'no answer within 2.5 s',
      message: 'The container kept running, but nothing answered HTTP on port 8080 within 2.5 s (last try: connection refused).\nIts last output:\n  listening on :9090',
    });
  });
});

describe('diagnoseCommand', () => {
  const diagnose = (config: Partial<ImageConfigFacts>, files: FileFacts[] = []) => diagnoseCommand(image(undefined, config, files));
  const elf = (interpreter?: string): FileFacts => file('server', { identity: { kind: 'elf', ...(interpreter ? { interpreter } : {}) } as FileFacts['identity'] });

  it('names a missing ENTRYPOINT and CMD, or a missing program by the instruction that names it', () => {
    expect(diagnose({ entrypoint: null, cmd: null })).toBe('The image has neither ENTRYPOINT nor CMD, so a container has nothing to run.');
    expect(diagnose({ entrypoint: [], cmd: ['/app', 'x'] })).toBe('The image has no /app, the program its CMD names.');
    expect(diagnose({ entrypoint: ['/server'], cmd: ['x'] })).toBe('The image has no /server, the program its ENTRYPOINT names.');
    expect(diagnose({ entrypoint: ['server'] })).toBeUndefined();
  });

  it('says when the program is a folder, or lacks its loader or interpreter', () => {
    expect(diagnose({}, [file('server', { type: 'directory' })])).toBe('/server is a directory, not a program.');
    expect(diagnose({}, [elf('/lib/ld-musl-x86_64.so.1')])).toBe('/server is linked dynamically: it needs the loader /lib/ld-musl-x86_64.so.1, which is not in the image.');
    expect(diagnose({}, [elf('/lib/ld-musl-x86_64.so.1'), file('lib/ld-musl-x86_64.so.1')])).toBeUndefined();
    expect(diagnose({}, [elf()])).toBeUndefined();
    const script = file('server', { identity: { kind: 'script', interpreter: '/bin/sh -e' } as FileFacts['identity'] });
    expect(diagnose({}, [script])).toBe('/server is a script for /bin/sh -e, which is not in the image.');
    expect(diagnose({}, [script, file('bin/sh')])).toBeUndefined();
    expect(diagnose({}, [file('server')])).toBeUndefined();
  });

  it('follows links to the program', () => {
    const link = file('server', { type: 'symlink', linkTarget: '/app/server' });
    expect(diagnose({}, [link, file('app/server', { type: 'directory' })])).toBe('/server is a directory, not a program.');
  });
});

describe('http-responds: a script in front of the service, judged by what runs', () => {
  const service = { identity: { kind: 'go-program', mainPath: 'example.com/layerlab/hello' } as FileFacts['identity'] };
  const builtParams = httpResponds.params.parse({ port: 8080, requests: [{ path: '/healthz', body: 'ok' }], withinMs: 5000, builtFrom: ['example.com/layerlab/hello'] });
  const healthy = (processes?: string[]): HttpProbeResult => ({
    port: 8080,
    paths: ['/healthz'],
    withinMs: 5000,
    outcome: 'answered',
    answers: [{ path: '/healthz', statusCode: 200, bodyStart: 'ok' }],
    afterMs: 120,
    ...(processes ? { processes } : {}),
  });
  const files = [
    file('start.sh', { identity: { kind: 'script', interpreter: '/bin/sh' } }),
    file('app/hello', service),
    file('bin/busybox', { identity: { kind: 'busybox' } }),
    file('bin/httpd', { identity: { kind: 'busybox' }, hardLinkTo: 'bin/busybox' }),
  ];
  const judge = (processes?: string[], config: Partial<ImageConfigFacts> = {}) => httpResponds.evaluate(image(healthy(processes), { entrypoint: ['/start.sh'], ...config }, files), builtParams);

  it('passes when the service runs, by its path, through PATH, or by a relative name the script ran', () => {
    expect(judge(['/app/hello']).status).toBe('pass');
    expect(judge(['/bin/sh /start.sh', '/app/hello -port 8080']).status).toBe('pass');
    expect(judge(['hello'], { env: ['PATH=/app:/bin'] }).status).toBe('pass');
    expect(judge(['./hello']).status).toBe('pass');
    // Where the engine did not say what runs, the script has the benefit of the doubt.
    expect(judge(undefined).status).toBe('pass');
  });

  it('fails when something else answers, the service copied in but never run', () => {
    const outcome = judge(['httpd -f -p 8080 -h /tmp/www']);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toBe(
      'Something answers on port 8080 as the service does, but the program the container runs, /start.sh (a script for /bin/sh; once the container answered, what ran was "httpd -f -p 8080 -h /tmp/www", and none of it is a Go program built from example.com/layerlab/hello), is not the service: that is the Go program built from example.com/layerlab/hello. Ship the program you built, and run it.',
    );
    expect(judge([]).message).toContain('what ran was nothing, and none of it');
    expect(judge(['/bin/sh /start.sh', '  ']).status).toBe('fail');
    // A relative name is known by its file name only when nothing on PATH is called so.
    expect(judge(['./httpd']).status).toBe('fail');
    expect(judge(['/srv/hello']).status).toBe('pass');
    // Found through the image's own PATH first: a busybox applet named hello there is not the service.
    const shadowed = [...files, file('srv/hello', { identity: { kind: 'busybox' } })];
    const onPath = (env: string[]) => httpResponds.evaluate(image(healthy(['hello']), { entrypoint: ['/start.sh'], env }, shadowed), builtParams);
    expect(onPath(['HOME=/', 'PATH=/srv:/bin']).status).toBe('fail');
    expect(onPath(['PATH=/app']).status).toBe('pass');
  });
});
