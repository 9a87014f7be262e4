import { classBench } from './class.bench.js';
import { graderBench } from './grader.bench.js';
import { graderStarterBench } from './grader-starter.bench.js';
import { inspectBench } from './inspect.bench.js';
import { mutationBench } from './mutation.bench.js';
import { sandboxBench } from './sandbox.bench.js';
import { siteBench } from './site.bench.js';
import { terminalBench } from './terminal.bench.js';
import type { BenchSuite } from './types.js';

/** Every benchmark suite, in the order `npm run bench` runs them (the quick refusals first). */
export const benchSuites: readonly BenchSuite[] = [mutationBench, sandboxBench, graderBench, graderStarterBench, inspectBench, siteBench, terminalBench, classBench];
