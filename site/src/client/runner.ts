/**
 * Whether a Layerlab runner (`course start`) serves this page. The same built site is also
 * read from any static server; then there is no API, and pages say how to start a runner.
 */
export interface RunnerStatus {
  isPresent: boolean;
  isSandboxRunning: boolean;
  /** The sandbox's health word and label (contract/sandbox-health.ts), and what to do when it is not healthy. */
  health?: { word: string; label: string; advice?: string };
}

import type { StatusResponse } from '../../../runner/src/contract/lesson-status';
import { authHeaders } from './runner-token';

let cached: Promise<RunnerStatus> | undefined;

export function findRunner(): Promise<RunnerStatus> {
  cached ??= (async () => {
    try {
      const response = await fetch('/api/status', { cache: 'no-store', headers: { Accept: 'application/json', ...authHeaders() } });
      if (!response.ok) return { isPresent: false, isSandboxRunning: false };
      const body = (await response.json()) as Partial<StatusResponse>;
      const health = typeof body.sandboxHealth === 'string' && typeof body.sandboxHealthLabel === 'string'
        ? { word: body.sandboxHealth, label: body.sandboxHealthLabel, ...(typeof body.sandboxHealthAdvice === 'string' ? { advice: body.sandboxHealthAdvice } : {}) }
        : undefined;
      return { isPresent: body.runner === 'layerlab', isSandboxRunning: body.sandboxRunning === true, ...(health ? { health } : {}) };
    } catch {
      // No server answers /api (a static host, or the runner was stopped): static mode.
      return { isPresent: false, isSandboxRunning: false };
    }
  })();
  return cached;
}
