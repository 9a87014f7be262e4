import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CheckRun } from '../grader/types.js';
import { maxLearnerNameLength } from './contract.js';

/**
 * What a learner's runner sends the class for one graded check, validated where it enters
 * the class server. Everything in it is the learner's word: the server stores it, counts
 * it and shows it as text, never as markup.
 */

/** Control characters and the bidirectional overrides that could make one name look like another. */
const invisibleOrControl = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** Scripts whose letters are drawn alike: one name may use letters of one of them only ("Аda" mixes Cyrillic А into Latin). */
const lookalikeScripts = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
] as const;

/** The look-alike scripts a name's letters come from, in the order above. */
export function lookalikeScriptsOf(name: string): string[] {
  return lookalikeScripts.filter(([, letters]) => letters.test(name)).map(([script]) => script);
}

export const learnerNameSchema = z
  .string()
  .transform((name) => name.normalize('NFC').trim())
  .pipe(
    z
      .string()
      .min(1, 'the name is empty')
      .max(maxLearnerNameLength, `the name is longer than ${maxLearnerNameLength} characters`)
      .refine((name) => !invisibleOrControl.test(name), 'the name holds control or invisible characters')
      .superRefine((name, context) => {
        const scripts = lookalikeScriptsOf(name);
        if (scripts.length > 1) {
          context.addIssue({ code: z.ZodIssueCode.custom, message: `the name mixes ${scripts.join(' and ')} letters, which can make it look like another name; write it in one alphabet` });
        }
      }),
  );

const checkIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'a check id is lower-case letters, digits and dashes');

export const submissionSchema = z
  .object({
    /** Chosen by the learner's runner when the check ran; sending it again changes nothing. */
    submissionId: z.string().uuid(),
    exercise: z.string().regex(/^lesson-\d{1,3}$/, 'an exercise id looks like lesson-7'),
    passed: z.boolean(),
    /** When the check ran, by the learner's clock (a queued result arrives later). */
    checkedAt: z.string().datetime({ offset: true }),
    image: z.string().min(1).max(512),
    runnerVersion: z.string().min(1).max(40),
    durationMs: z.number().int().min(0).max(24 * 3600 * 1000).optional(),
    metrics: z
      .object({
        sizeBytes: z.number().int().min(0).max(1e13).nullable(),
        layers: z.number().int().min(0).max(10_000).nullable(),
        buildTools: z.array(z.string().min(1).max(200)).max(100),
        wastedBytes: z.number().int().min(0).max(1e13).nullable(),
      })
      .strict(),
    checks: z
      .array(z.object({ id: checkIdSchema, status: z.enum(['pass', 'fail', 'skip']), isAdvisory: z.boolean() }).strict())
      .max(100),
  })
  .strict()
  .refine((submission) => !submission.passed || submission.checks.every((check) => check.isAdvisory || check.status !== 'fail'), {
    message: 'a passed result cannot have a failed check that counts',
    path: ['passed'],
  });

export type Submission = z.infer<typeof submissionSchema>;

export const joinRequestSchema = z.object({ code: z.string().min(1).max(200), name: learnerNameSchema }).strict();
export const reportRequestSchema = z.object({ code: z.string().min(1).max(200), name: learnerNameSchema, submission: submissionSchema }).strict();

/** One readable line per problem, with where it is: "submission.checks.0.status: Invalid enum value…". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
}

/** The class's view of one graded check, made from what the grader reported. */
export function submissionFromRun(run: CheckRun, runnerVersion: string, submissionId: string = randomUUID()): Submission {
  const buildTools = [...new Set(run.layers.flatMap((layer) => layer.buildTools))].sort();
  // Wasted bytes are reported when the grader's result carries them (older results do not).
  const wasted = (run as CheckRun & { wastedBytes?: unknown }).wastedBytes;
  return {
    submissionId,
    exercise: run.exercise,
    passed: run.passed,
    checkedAt: run.startedAt,
    image: run.image.slice(0, 512) || '(none)',
    runnerVersion: runnerVersion.slice(0, 40),
    durationMs: Math.max(0, Math.round(run.durationMs)),
    metrics: {
      sizeBytes: run.sizeBytes ?? null,
      layers: run.imageId ? run.layers.length : null,
      buildTools: buildTools.slice(0, 100).map((tool) => tool.slice(0, 200)),
      wastedBytes: typeof wasted === 'number' && Number.isInteger(wasted) && wasted >= 0 ? wasted : null,
    },
    checks: run.checks.slice(0, 100).map((check) => ({ id: check.id, status: check.status, isAdvisory: check.isAdvisory })),
  };
}
