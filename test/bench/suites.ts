import { graderBench } from './grader.bench.js';
import { graderStarterBench } from './grader-starter.bench.js';
import { sandboxBench } from './sandbox.bench.js';
import { siteBench } from './site.bench.js';
import type { BenchSuite } from './types.js';

/** Every benchmark suite, in the order `npm run bench` runs them. */
export const benchSuites: readonly BenchSuite[] = [sandboxBench, graderBench, graderStarterBench, siteBench];
