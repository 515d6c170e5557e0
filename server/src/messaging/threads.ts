import type { WithId } from '@medplum/core';
import { OperationOutcomeError, notFound } from '@medplum/core';
import type { Communication, Reference } from '@medplum/fhirtypes';
import type { PolicyContext } from '../access/caller-policy';
import { forbiddenBecause } from '../fhir/errors';
import { lockKey, searchAll } from '../scheduling/store';
import { COMMUNICATION_CATEGORY, NOTIFICATION_CATEGORY_SYSTEM } from '../scheduling/vocabulary';
import type { HaleRepository } from '../storage/repository';
import { activeRelationship } from './relationship';
import { MESSAGE, MESSAGE_RECEIVED, THREAD } from './vocabulary';

/**
 * Secure messaging (docs/messaging.md). A thread is a Communication header (category thread, subject
 * the patient, recipient both participants, topic); each message is a Communication partOf it, with
 * inResponseTo the message before, sender and recipient, and `received` set when its recipient has
 * read it. Everything is written by the system repository after the checks here, because the
 * provider's side usually has no write grant in the patient's record: the operations are the only
 * way in (REST writes of these are refused, scheduling/write-guard.ts).
 */
export interface MessagingContext {
  /** The caller: "Patient/…", "Practitioner/…" or "PractitionerRole/…". */
  me: string;
  /** The caller's own repository (attachments must be readable by them). */
  repo: HaleRepository;
  system: HaleRepository;
  policy: PolicyContext;
  now: Date;
}

const PERSON = /^(Patient|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;

export function messagingContext(repo: HaleRepository, system: HaleRepository): MessagingContext {
  const me = repo.ctx.caller?.fhirUser ?? '';
  if (!PERSON.test(me)) {
    throw forbiddenBecause('Secure messages are between a patient and a provider (a user whose profile is one)');
  }
  const policy = { db: repo.ctx.db, searchParams: repo.ctx.searchParams, baseUrl: repo.ctx.baseUrl };
  return { me, repo, system, policy, now: new Date() };
}

const hasCoding = (c: Communication, code: { system: string; code: string }): boolean =>
  (c.category ?? []).some((cc) => (cc.coding ?? []).some((x) => x.system === code.system && x.code === code.code));

const refs = (c: Communication): string[] => (c.recipient ?? []).flatMap((r) => (r.reference ? [r.reference] : []));

/** The two sides of a thread. */
function partiesOf(thread: Communication): { patient: string; provider: string } {
  const patient = thread.subject?.reference ?? '';
  const provider = refs(thread).find((r) => r !== patient) ?? '';
  return { patient, provider };
}

const otherSide = (thread: Communication, me: string): string => {
  const { patient, provider } = partiesOf(thread);
  return me === patient ? provider : patient;
};

async function assertRelationship(
  ctx: MessagingContext,
  tx: HaleRepository,
  patient: string,
  provider: string
): Promise<void> {
  const deps = { ...ctx.policy, db: tx.queryable };
  if (!(await activeRelationship(deps, provider, patient.slice('Patient/'.length), ctx.now.getTime()))) {
    throw forbiddenBecause(
      'Messages are only between a patient and a provider with an active relationship (a Consent that shares the record)'
    );
  }
}

/** The thread, if the caller takes part in it and the relationship is active; 404 for anyone else. */
export async function openThread(
  ctx: MessagingContext,
  tx: HaleRepository,
  id: string
): Promise<WithId<Communication>> {
  const thread = await tx.readResource<Communication>('Communication', id);
  if (!hasCoding(thread, THREAD) || !refs(thread).includes(ctx.me)) {
    throw new OperationOutcomeError(notFound); // whether a thread exists is its participants' business
  }
  const { patient, provider } = partiesOf(thread);
  await assertRelationship(ctx, tx, patient, provider);
  return thread;
}

const unreadIn = (tx: HaleRepository, threadId: string, reader: string): Promise<WithId<Communication>[]> =>
  searchAll<Communication>(
    tx,
    `Communication?part-of=Communication/${threadId}&recipient=${reader}&received:missing=true`
  );

export interface SendInput {
  threadId?: string;
  recipient?: Reference;
  topic?: string;
  text: string;
  attachments: Reference[];
}

/** A new thread with the recipient (a provider for a patient, a patient for a provider). */
async function newThread(ctx: MessagingContext, tx: HaleRepository, input: SendInput): Promise<WithId<Communication>> {
  const recipient = input.recipient?.reference ?? '';
  const iAmPatient = ctx.me.startsWith('Patient/');
  const valid = iAmPatient ? /^(Practitioner|PractitionerRole)\//.test(recipient) : recipient.startsWith('Patient/');
  if (!valid || !PERSON.test(recipient)) {
    throw forbiddenBecause(
      iAmPatient
        ? 'A patient writes to a provider (Practitioner or PractitionerRole)'
        : 'A provider writes to a patient'
    );
  }
  const [patient, provider] = iAmPatient ? [ctx.me, recipient] : [recipient, ctx.me];
  await assertRelationship(ctx, tx, patient, provider);
  return tx.createResource<Communication>({
    resourceType: 'Communication',
    status: 'in-progress',
    category: [{ coding: [THREAD] }],
    subject: { reference: patient },
    recipient: [{ reference: patient }, { reference: provider }],
    sender: { reference: ctx.me },
    topic: { text: input.topic },
    sent: ctx.now.toISOString(),
  });
}

/** Attachments the sender can read (a DocumentReference or Binary of theirs, or one shared with them). */
async function attachmentsOf(ctx: MessagingContext, attachments: Reference[]): Promise<Communication['payload']> {
  const out: NonNullable<Communication['payload']> = [];
  for (const a of attachments) {
    if (!/^(DocumentReference|Binary)\/[A-Za-z0-9\-.]{1,64}$/.test(a.reference ?? '')) {
      throw forbiddenBecause("An 'attachment' is a DocumentReference or Binary reference");
    }
    await ctx.repo.readReference(a); // 404 when the sender may not read it
    out.push({ contentReference: { reference: a.reference } });
  }
  return out;
}

/**
 * Sends a message, in a new thread or an existing one, under the thread's lock so concurrent sends
 * are numbered in order (inResponseTo) and the recipient is notified once per run of unread
 * messages: the first unread one queues a PHI-free notification for the dispatcher bot.
 */
export async function sendMessage(
  ctx: MessagingContext,
  input: SendInput
): Promise<{ thread: WithId<Communication>; message: WithId<Communication> }> {
  const payload = [{ contentString: input.text }, ...((await attachmentsOf(ctx, input.attachments)) ?? [])];
  return ctx.system.withTransaction(async (tx) => {
    let thread: WithId<Communication>;
    let last: WithId<Communication> | undefined;
    if (input.threadId) {
      await lockKey(tx, `thread:Communication/${input.threadId}`);
      thread = await openThread(ctx, tx, input.threadId);
      const latest = await tx.search<Communication>({
        resourceType: 'Communication',
        filters: [{ code: 'part-of', operator: 'eq', value: `Communication/${thread.id}` }],
        sortRules: [{ code: '_lastUpdated', descending: true }],
        count: 1,
      });
      last = latest.entry?.[0]?.resource;
    } else {
      thread = await newThread(ctx, tx, input);
    }
    const to = otherSide(thread, ctx.me);
    const sent = new Date().toISOString(); // taken under the lock, so messages' times follow their order
    const firstUnread = (await unreadIn(tx, thread.id, to)).length === 0;
    const message = await tx.createResource<Communication>({
      resourceType: 'Communication',
      status: 'completed',
      category: [{ coding: [MESSAGE] }],
      subject: thread.subject,
      partOf: [{ reference: `Communication/${thread.id}` }],
      ...(last ? { inResponseTo: [{ reference: `Communication/${last.id}` }] } : {}),
      sender: { reference: ctx.me },
      recipient: [{ reference: to }],
      payload,
      sent,
    });
    if (firstUnread) {
      await tx.createResource(notice(thread, to));
    }
    return { thread, message };
  });
}

/** "You have a new message": no sender, topic or text, which stay behind sign-in (docs/notifications.md). */
function notice(thread: WithId<Communication>, to: string): Communication {
  return {
    resourceType: 'Communication',
    status: 'preparation',
    category: [
      { coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification' }] },
      { coding: [{ system: NOTIFICATION_CATEGORY_SYSTEM, code: MESSAGE_RECEIVED }] },
    ],
    subject: thread.subject,
    recipient: [{ reference: to }],
    about: [{ reference: `Communication/${thread.id}` }],
    payload: [{ contentString: 'You have a new secure message. Sign in to read it.' }],
  };
}

/** The messages of a thread, oldest first. */
export async function threadMessages(ctx: MessagingContext, id: string): Promise<WithId<Communication>[]> {
  const thread = await openThread(ctx, ctx.system, id);
  return searchAll<Communication>(ctx.system, `Communication?part-of=Communication/${thread.id}&_sort=sent,_id`);
}

/** Marks every message to the caller in the thread read (Communication.received); returns how many. */
export async function markRead(ctx: MessagingContext, id: string): Promise<number> {
  return ctx.system.withTransaction(async (tx) => {
    await lockKey(tx, `thread:Communication/${id}`);
    const thread = await openThread(ctx, tx, id);
    const unread = await unreadIn(tx, thread.id, ctx.me);
    for (const m of unread) {
      await tx.updateResource<Communication>({ ...m, received: ctx.now.toISOString() });
    }
    return unread.length;
  });
}

/** The caller's threads (those whose relationship is active), newest first, with their unread counts. */
export async function myThreads(ctx: MessagingContext): Promise<{ thread: WithId<Communication>; unread: number }[]> {
  const threads = await searchAll<Communication>(
    ctx.system,
    `Communication?category=${THREAD.system}|${THREAD.code}&recipient=${ctx.me}&_sort=-sent`
  );
  const unread = await searchAll<Communication>(
    ctx.system,
    `Communication?category=${MESSAGE.system}|${MESSAGE.code}&recipient=${ctx.me}&received:missing=true`
  );
  const counts = new Map<string, number>();
  for (const m of unread) {
    const ref = m.partOf?.[0]?.reference ?? '';
    counts.set(ref, (counts.get(ref) ?? 0) + 1);
  }
  const out: { thread: WithId<Communication>; unread: number }[] = [];
  const related = new Map<string, boolean>();
  for (const thread of threads) {
    const { patient, provider } = partiesOf(thread);
    const key = `${patient}|${provider}`;
    if (!related.has(key)) {
      const now = ctx.now.getTime();
      related.set(key, await activeRelationship(ctx.policy, provider, patient.slice('Patient/'.length), now));
    }
    if (related.get(key)) {
      out.push({ thread, unread: counts.get(`Communication/${thread.id}`) ?? 0 });
    }
  }
  return out;
}
