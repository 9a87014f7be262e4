import type { CheckRun } from '../types.js';

/**
 * The JSON report, schemaVersion 1, for instructors and CI (`course check lesson-7 --format json`):
 *
 * {
 *   "schemaVersion": 1,
 *   "exercise": "lesson-7",
 *   "image": "lesson-7",                 // as asked
 *   "imageId": "sha256:…",               // absent when there was no image
 *   "passed": false,                     // every check that is not advice passed
 *   "checks": [{
 *     "id": "size", "title": "The image is at most 20 MB",
 *     "passed": false,
 *     "status": "pass" | "fail" | "skip", // skip: could not be judged (no image, unreadable layer)
 *     "advisory": false,                  // advice never fails the exercise
 *     "expected": "at most 20 MB", "actual": "626 MB",
 *     "message": "…",                     // why, with numbers and layers; absent when passed
 *     "hint": "…"
 *   }],
 *   "layers": [{ "index", "diffId", "sizeBytes", "instruction", "createdBy", "buildTools": [paths] }],
 *   "sizeBytes": 626172283, "archiveLayout": "oci" | "docker-legacy",
 *   "engine": { "address", "version" },
 *   "startedAt": "2026-…Z", "durationMs": 1234
 * }
 *
 * New fields may be added within schemaVersion 1; none are removed or change meaning.
 * Strings are the image's own, byte for byte: names may hold any character, escaped as JSON.
 */
export function renderJson(run: CheckRun): string {
  const report = {
    schemaVersion: 1,
    exercise: run.exercise,
    image: run.image,
    ...(run.imageId ? { imageId: run.imageId } : {}),
    passed: run.passed,
    checks: run.checks.map((check) => ({
      id: check.id,
      title: check.title,
      passed: check.passed,
      status: check.status,
      advisory: check.isAdvisory,
      expected: check.expected,
      actual: check.actual,
      ...(check.message !== undefined ? { message: check.message } : {}),
      hint: check.hint,
    })),
    layers: run.layers,
    ...(run.sizeBytes !== undefined ? { sizeBytes: run.sizeBytes } : {}),
    ...(run.archiveLayout ? { archiveLayout: run.archiveLayout } : {}),
    engine: run.engine,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
  };
  return `${escapeInvisibles(JSON.stringify(report, null, 2))}\n`;
}

/**
 * JSON.stringify escapes C0 controls but writes DEL, C1 controls and bidi overrides raw; a
 * terminal that shows the report could act on them. They only occur inside strings, where
 * a \\u escape means the same, so the data is unchanged (see untrusted.ts).
 */
function escapeInvisibles(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
