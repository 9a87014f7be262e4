import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { environmentError, usageError, UserError } from '../errors.js';
import type { CheckRun } from '../grader/types.js';
import { writeFileAtomically } from '../progress-store.js';
import { projectRoot } from '../project-root.js';
import { CertificateMismatchError, ClassUnreachableError, errorOf, requestClass, type ClassResponse } from './class-client.js';
import { classPaths } from './contract.js';
import { parseJoinLink, type JoinLink } from './join-link.js';
import { learnerNameSchema, submissionFromRun, submissionSchema, describeZodError, type Submission } from './submission.js';

/**
 * The learner's side of a class, in the data folder:
 *
 *   class/membership.json   the join link, the learner's name and key (mode 0600)
 *   class/outbox/*.json     graded checks not yet acknowledged by the class, one file each
 *   class/rejected/*.json   results the class refused for good, with its reason
 *
 * A graded check is written to the outbox first (temp file, then rename) and removed only
 * after the class acknowledges it, so nothing is lost while the class is unreachable;
 * the submission id in each file makes sending twice harmless.
 */

const membershipSchema = z.object({
  schemaVersion: z.literal(1),
  link: z.string(),
  name: z.string(),
  learnerId: z.number().int(),
  key: z.string().min(20),
  joinedAt: z.string(),
});

export type Membership = z.infer<typeof membershipSchema>;

const queuedSchema = z.object({ queuedAt: z.string(), submission: submissionSchema });

export const classFolder = (dataDir: string) => path.join(dataDir, 'class');
const membershipFile = (dataDir: string) => path.join(classFolder(dataDir), 'membership.json');
const outboxFolder = (dataDir: string) => path.join(classFolder(dataDir), 'outbox');
const rejectedFolder = (dataDir: string) => path.join(classFolder(dataDir), 'rejected');

let cachedVersion: string | undefined;
/** The runner's version, sent with every result. */
export function runnerVersion(): string {
  cachedVersion ??= String(JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).version);
  return cachedVersion;
}

export async function readMembership(dataDir: string): Promise<Membership | undefined> {
  let text: string;
  try {
    text = await readFile(membershipFile(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: z.SafeParseReturnType<unknown, Membership>;
  try {
    parsed = membershipSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = { success: false, error: new z.ZodError([]) };
  }
  if (!parsed.success) {
    throw environmentError(`Your class file ${membershipFile(dataDir)} is damaged.`, 'Run `course leave`, then join the class again with the link your instructor gave you.');
  }
  return parsed.data;
}

/** Registers with the class and keeps the learner's key. */
export async function joinClass(dataDir: string, linkText: string, nameText: string): Promise<{ membership: Membership; origin: string }> {
  const link = parseJoinLink(linkText);
  const name = learnerNameSchema.safeParse(nameText);
  if (!name.success) throw usageError(`--name "${nameText}" cannot be used: ${describeZodError(name.error)}.`, 'Give the name your instructor should see, e.g. --name "Ada Lovelace".');
  const existing = await readMembership(dataDir);
  if (existing) {
    throw usageError(`You are already in a class, as "${existing.name}" (${parseJoinLink(existing.link).origin}).`, 'Run `course leave` first to join another class.');
  }
  const response = await callClass(link, 'POST', classPaths.apiJoin, { body: { code: link.code, name: name.data } });
  if (response.status !== 201) throw refusal(response);
  const body = z.object({ learnerId: z.number().int(), key: z.string().min(20), name: z.string() }).safeParse(response.body);
  if (!body.success) throw environmentError('The class server answered the join in a form this runner does not understand.', 'Ask your instructor whether the class server runs the same Layerlab version as you.');
  const membership: Membership = { schemaVersion: 1, link: linkText.trim(), name: body.data.name, learnerId: body.data.learnerId, key: body.data.key, joinedAt: new Date().toISOString() };
  await writeFileAtomically(membershipFile(dataDir), `${JSON.stringify(membership, null, 2)}\n`);
  return { membership, origin: link.origin };
}

/** Forgets the class: its membership and anything still waiting for it. */
export async function leaveClass(dataDir: string): Promise<{ membership: Membership; discarded: number } | undefined> {
  const membership = await readMembership(dataDir).catch(() => undefined);
  const discarded = (await listQueue(dataDir)).length;
  if (!membership && !discarded) {
    await rm(classFolder(dataDir), { recursive: true, force: true });
    return undefined;
  }
  await rm(classFolder(dataDir), { recursive: true, force: true });
  return membership ? { membership, discarded } : undefined;
}

/**
 * Puts one graded check in the outbox when the learner is in a class. Returns whether it did.
 * Called by the one place a check becomes progress (grade-and-record.ts).
 */
export async function enqueueRun(dataDir: string, run: CheckRun, now: Date = new Date()): Promise<boolean> {
  if (!(await readMembership(dataDir))) return false;
  const submission = submissionFromRun(run, runnerVersion());
  const file = path.join(outboxFolder(dataDir), `${String(now.getTime()).padStart(15, '0')}-${submission.submissionId}.json`);
  await writeFileAtomically(file, `${JSON.stringify({ queuedAt: now.toISOString(), submission })}\n`);
  return true;
}

async function listQueue(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(outboxFolder(dataDir))).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function listRejected(dataDir: string): Promise<string[]> {
  return await readdir(rejectedFolder(dataDir)).then((names) => names.filter((name) => name.endsWith('.json')), () => []);
}

export interface DeliveryReport {
  delivered: number;
  /** Still in the outbox after this attempt. */
  waiting: number;
  /** Refused by the class for good this time (kept in class/rejected/). */
  rejected: number;
  /** Why delivery stopped early, in words for the learner. */
  problem?: string;
}

const deliveries = new Map<string, Promise<DeliveryReport>>();

/**
 * Sends what waits in the outbox, oldest first, until it is empty or the class cannot be
 * reached. One delivery at a time per data folder in this process; another process sending
 * the same file at the same moment is harmless (the class stores each submission id once).
 */
export async function deliverQueue(dataDir: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<DeliveryReport> {
  const previous = deliveries.get(dataDir) ?? Promise.resolve(undefined);
  const next = previous.catch(() => undefined).then(() => deliverNow(dataDir, options));
  deliveries.set(dataDir, next);
  try {
    return await next;
  } finally {
    if (deliveries.get(dataDir) === next) deliveries.delete(dataDir);
  }
}

async function deliverNow(dataDir: string, options: { timeoutMs?: number; signal?: AbortSignal }): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, waiting: 0, rejected: 0 };
  const names = await listQueue(dataDir);
  if (!names.length) return report;
  const membership = await readMembership(dataDir);
  if (!membership) return { ...report, waiting: names.length, problem: 'You are not in a class any more; run `course leave` to clear what waits.' };
  const link = parseJoinLink(membership.link);
  for (const [index, name] of names.entries()) {
    const file = path.join(outboxFolder(dataDir), name);
    let submission: Submission;
    try {
      submission = queuedSchema.parse(JSON.parse(await readFile(file, 'utf8'))).submission;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // delivered by another process meanwhile
      await moveToRejected(dataDir, name, 'the queued file is damaged');
      report.rejected++;
      continue;
    }
    let response: ClassResponse;
    try {
      response = await requestClass(link, 'POST', classPaths.apiSubmissions, { body: submission, bearer: membership.key, timeoutMs: options.timeoutMs ?? 5000, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      return { ...report, waiting: names.length - index, problem: unreachableProblem(link, error) };
    }
    if (response.status === 200 || response.status === 201) {
      await rm(file, { force: true });
      report.delivered++;
    } else if (response.status === 400 || response.status === 409 || response.status === 413 || response.status === 422) {
      await moveToRejected(dataDir, name, errorOf(response).message);
      report.rejected++;
    } else {
      const { message, nextStep } = errorOf(response);
      return { ...report, waiting: names.length - index, problem: `${message} ${nextStep}`.trim() };
    }
  }
  return report;
}

function unreachableProblem(link: JoinLink, error: unknown): string {
  if (error instanceof CertificateMismatchError) return error.message;
  if (error instanceof ClassUnreachableError) return `The class at ${link.origin} cannot be reached: ${error.message}.`;
  throw error;
}

async function moveToRejected(dataDir: string, name: string, reason: string): Promise<void> {
  await mkdir(rejectedFolder(dataDir), { recursive: true, mode: 0o700 });
  const source = path.join(outboxFolder(dataDir), name);
  const text = await readFile(source, 'utf8').catch(() => '');
  await writeFileAtomically(path.join(rejectedFolder(dataDir), name), `${JSON.stringify({ reason, queued: text })}\n`);
  await rm(source, { force: true });
}

export interface ClassStatus {
  membership: Membership;
  origin: string;
  waiting: number;
  rejected: number;
  oldestWaitingSince?: string;
}

export async function classStatus(dataDir: string): Promise<ClassStatus | undefined> {
  const membership = await readMembership(dataDir);
  if (!membership) return undefined;
  const names = await listQueue(dataDir);
  const oldest = names[0] ? new Date(Number(names[0].split('-')[0])).toISOString() : undefined;
  return { membership, origin: parseJoinLink(membership.link).origin, waiting: names.length, rejected: (await listRejected(dataDir)).length, ...(oldest ? { oldestWaitingSince: oldest } : {}) };
}

/** A CI job's one result: sent by name with the join code, retried briefly, never queued (a CI machine is gone after the job). */
export async function reportRun(linkText: string, nameText: string, run: CheckRun): Promise<void> {
  const link = parseJoinLink(linkText);
  const name = learnerNameSchema.safeParse(nameText);
  if (!name.success) throw usageError(`--learner "${nameText}" cannot be used: ${describeZodError(name.error)}.`, 'Give the learner\'s name as the class should show it, e.g. --learner "Ada Lovelace".');
  const submission = submissionFromRun(run, runnerVersion());
  const body = { code: link.code, name: name.data, submission };
  let lastProblem = '';
  for (const delayMs of [0, 1000, 3000]) {
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    let response: ClassResponse;
    try {
      response = await requestClass(link, 'POST', classPaths.apiReport, { body });
    } catch (error) {
      if (error instanceof CertificateMismatchError) throw environmentError(error.message, 'Check the join link; if the instructor restarted the class with a new certificate, use the new link.');
      lastProblem = unreachableProblem(link, error);
      continue;
    }
    if (response.status === 200 || response.status === 201) return;
    if (response.status >= 500) {
      lastProblem = errorOf(response).message;
      continue;
    }
    throw refusal(response);
  }
  throw environmentError(`The result was not sent. ${lastProblem}`, 'Check that the class server is running and reachable from this job, then run the check again.');
}

/** Calls the class, turning network failures into messages a learner can act on. */
async function callClass(link: JoinLink, method: 'GET' | 'POST', pathname: string, options: { body?: unknown; bearer?: string }): Promise<ClassResponse> {
  try {
    return await requestClass(link, method, pathname, options);
  } catch (error) {
    if (error instanceof CertificateMismatchError) throw environmentError(error.message, 'Ask your instructor for the join link again and compare the fingerprint (fp=) with the one `course class serve` printed.');
    if (error instanceof ClassUnreachableError) throw environmentError(`The class at ${link.origin} cannot be reached: ${error.message}.`, 'Check that the instructor\'s `course class serve` is running and that you are on the same network, then try again.');
    throw error;
  }
}

function refusal(response: ClassResponse): UserError {
  const { message, nextStep } = errorOf(response);
  return response.status >= 400 && response.status < 500 ? usageError(message, nextStep || 'Check the join link and the name, then try again.') : environmentError(message, nextStep || 'Try again in a moment.');
}

/** The learner's status with a fresh delivery attempt: for `course class status`. */
export async function checkInWithClass(dataDir: string): Promise<{ status: ClassStatus; delivery: DeliveryReport; reachable: boolean; problem?: string } | undefined> {
  const before = await classStatus(dataDir);
  if (!before) return undefined;
  const delivery = await deliverQueue(dataDir);
  let reachable = delivery.problem === undefined;
  let problem = delivery.problem;
  if (reachable) {
    const link = parseJoinLink(before.membership.link);
    try {
      const response = await requestClass(link, 'GET', classPaths.apiWhoami, { bearer: before.membership.key });
      if (response.status !== 200) {
        reachable = false;
        problem = `${errorOf(response).message} ${errorOf(response).nextStep}`.trim();
      }
    } catch (error) {
      reachable = false;
      problem = unreachableProblem(link, error);
    }
  }
  const status = (await classStatus(dataDir))!;
  return { status, delivery, reachable, ...(problem ? { problem } : {}) };
}
