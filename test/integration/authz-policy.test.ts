import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';
import { hostNameOf, baseImageRecipes } from '../../runner/src/base-images/recipes.js';
import { imagesDir } from '../../runner/src/project-root.js';
import { testLabel } from '../support/test-run.js';

const execFileAsync = promisify(execFile);

/**
 * The sandbox's authorization plugin decides in Go (runner/images/sandbox/authz); its unit
 * tests run with the course's own golang image, as the sandbox image's build stage does.
 */
it('passes the Go unit tests of the authorization plugin\'s policy', async () => {
  const golang = hostNameOf(baseImageRecipes.find((recipe) => recipe.name === 'golang:1.24')!);
  const source = path.join(imagesDir, 'sandbox', 'authz');
  const { stdout } = await execFileAsync('docker', [
    'run', '--rm', '--label', `${testLabel}=${inject('testRunId')}`, '--network', 'none',
    '-v', `${source}:/src:ro`, '-w', '/src', '-e', 'GOCACHE=/tmp/go-cache', '-e', 'GOFLAGS=-buildvcs=false',
    golang, 'sh', '-c', 'test -z "$(gofmt -l .)" && go vet . && go test -count=1 -v . 2>&1',
  ], { maxBuffer: 16 * 1024 * 1024 });
  expect(stdout).toMatch(/^ok\s+layerlab\/authz/m);
  expect(stdout).toMatch(/--- PASS: TestRefuses\/privileged /);
  expect(stdout).not.toMatch(/--- FAIL/);
}, 300_000);
