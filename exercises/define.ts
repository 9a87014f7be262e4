import type { z } from 'zod';
import { checkKinds, type CheckKindName } from '../runner/src/grader/kinds/index.js';

/** One check of an exercise; `params` is typed by its kind's schema. */
export type CheckDefinition = {
  [K in CheckKindName]: {
    /** Short kebab-case phrase for the property checked, unique in the exercise. */
    id: string;
    /** The property that should hold, in the learner's words. */
    title: string;
    kind: K;
    params: z.input<(typeof checkKinds)[K]['params']>;
    /** Points the way without giving the answer; shown with a failure. */
    hint: string;
    /** Advice: reported, but does not decide whether the exercise passes. */
    isAdvisory?: boolean;
  };
}[CheckKindName];

export interface ExerciseDefinition {
  /** `lesson-N`, the same id as the lesson and the folder. */
  id: string;
  title: string;
  /** The tag the learner builds, as the lesson tells them. */
  image: string;
  /** How to build the image, for when it is missing. */
  buildHint: string;
  checks: readonly CheckDefinition[];
}

/** A check with its parameters validated and defaults applied. */
export interface LoadedCheck {
  id: string;
  title: string;
  kind: CheckKindName;
  params: unknown;
  hint: string;
  isAdvisory: boolean;
}

export interface Exercise extends Omit<ExerciseDefinition, 'checks'> {
  checks: readonly LoadedCheck[];
}

export class ExerciseDefinitionError extends Error {
  override readonly name = 'ExerciseDefinitionError';
}

/**
 * Declares an exercise. The compiler checks each check's params against its kind; the same
 * zod schema runs again here, so a bad exercise fails when it loads, naming the exercise
 * and the check, before any image is read (a course bug, never the learner's failure).
 */
export function defineExercise(definition: ExerciseDefinition): Exercise {
  const where = `exercises/${definition.id}/exercise.ts`;
  const problems: string[] = [];
  if (!/^lesson-\d+$/.test(definition.id)) problems.push(`id "${definition.id}" is not of the form lesson-N`);
  const seen = new Set<string>();
  const checks = definition.checks.map((check, index): LoadedCheck => {
    const at = `checks[${index}] (${check.id})`;
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(check.id)) problems.push(`${at}: id must be kebab-case`);
    if (seen.has(check.id)) problems.push(`${at}: id is used twice`);
    seen.add(check.id);
    if (!check.title.trim()) problems.push(`${at}: title is empty`);
    if (!check.hint.trim()) problems.push(`${at}: hint is empty`);
    const kind = checkKinds[check.kind] as (typeof checkKinds)[CheckKindName] | undefined;
    if (!kind) {
      problems.push(`${at}: there is no check kind "${check.kind}" (known: ${Object.keys(checkKinds).join(', ')})`);
      return { ...check, params: undefined, isAdvisory: check.isAdvisory ?? false };
    }
    const parsed = kind.params.safeParse(check.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${at}.params${issue.path.map((part) => `.${part}`).join('')}: ${issue.message}`);
    }
    return { ...check, params: parsed.success ? parsed.data : undefined, isAdvisory: check.isAdvisory ?? false };
  });
  if (problems.length) throw new ExerciseDefinitionError(`${where} is not valid:\n  ${problems.join('\n  ')}`);
  return { ...definition, checks };
}
