/**
 * Notification dispatcher: turns notification Communications (category communication-category#notification,
 * status preparation, or in-progress when deferred) into email and SMS.
 *
 * - Triggered per Communication (subscription `Communication?status=preparation&category=notification`), or on
 *   cron over every pending one (deferred ones whose not-before time has come, and new ones a trigger missed).
 * - Email: `medplum.sendEmail({ to, subject, text })` (POST email/v1/send). SMS: `medplum.post('sms/v1/send',
 *   { to, body })`, the same shape for text messages.
 * - The message is a PHI-free template by category with a link to the portal (secret PORTAL_URL); the payload
 *   never leaves Hale (lib/templates.ts).
 * - Preferences (lib/preferences.ts): category off or channel opted out → not sent; quiet hours → deferred
 *   (in-progress, communication-not-before, statusReason quiet-hours) unless priority stat.
 * - Ends completed (sent, medium) or stopped with statusReason opted-out, no-address, send-failed or expired.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type {
  Appointment,
  Communication,
  ContactPoint,
  OperationOutcome,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { ChannelChoice } from './lib/channels';
import { chooseChannels } from './lib/channels';
import type { BotContext } from './lib/fhir';
import {
  contextOf,
  createOnce,
  inputOf,
  instantOf,
  isCronInput,
  refOf,
  searchAll,
  secretNumber,
  secretString,
  typeOf,
} from './lib/fhir';
import { categoryOf, isNotification } from './lib/notify';
import { categoryEnabled, parsePreferences, readPreferences } from './lib/preferences';
import { quietUntil } from './lib/quiet-hours';
import type { RenderedMessage } from './lib/templates';
import { notificationLink, renderNotification } from './lib/templates';
import type { Channel, StatusReason } from './lib/vocabulary';
import { COMMUNICATION_CATEGORY, EXT, PARTICIPATION_MODE, SYSTEM } from './lib/vocabulary';

export type DispatchResult = 'sent' | 'deferred' | 'stopped' | 'split' | 'skipped';

export interface DispatchOutcome {
  readonly communication: string;
  readonly result: DispatchResult;
  readonly reason?: string;
  readonly channels?: readonly Channel[];
}

/** A claim older than this is taken to have died with its run, and the message is dispatched again. */
const STALE_CLAIM_MS = 15 * 60 * 1000;

const MEDIUM: Record<Channel, string> = { email: 'EMAILWRIT', sms: 'SMSWRIT' };

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<DispatchOutcome[]> {
  const ctx = contextOf(medplum, event);
  const communication = inputOf<Communication>(event, 'Communication');
  if (communication) {
    return dispatch(ctx, communication);
  }
  return isCronInput(event.input) ? dispatchPending(ctx) : [];
}

/** Every pending notification, collected first: dispatching changes what the search would return. */
async function dispatchPending(ctx: BotContext): Promise<DispatchOutcome[]> {
  const limit = secretNumber(ctx.event, 'DISPATCH_BATCH', 500);
  const query = [
    ['status', 'preparation,in-progress'],
    ['category', `${COMMUNICATION_CATEGORY}|notification`],
  ];
  const pending = await searchAll(ctx.medplum, 'Communication', query, limit);
  const outcomes: DispatchOutcome[] = [];
  for (const communication of pending) {
    outcomes.push(...(await dispatch(ctx, communication)));
  }
  return outcomes;
}

async function dispatch(ctx: BotContext, communication: Communication): Promise<DispatchOutcome[]> {
  const ref = refOf(communication);
  const waiting = notDispatchable(ctx, communication);
  if (waiting) {
    return [{ communication: ref, result: 'skipped', reason: waiting }];
  }
  const recipients = communication.recipient ?? [];
  if (recipients.length > 1) {
    return split(ctx, communication);
  }
  const claimed = await claim(ctx, communication);
  if (!claimed) {
    return [{ communication: ref, result: 'skipped', reason: 'claimed by another run' }];
  }
  const recipient = recipients[0];
  if (!recipient) {
    return [await stop(ctx, claimed, 'no-address', 'The Communication has no recipient.')];
  }
  return [await deliver(ctx, claimed, recipient)];
}

/** Why the Communication is not for this run, or undefined when it is. */
function notDispatchable(ctx: BotContext, communication: Communication): string | undefined {
  if (!isNotification(communication)) {
    return 'not a notification';
  }
  if (communication.status !== 'preparation' && communication.status !== 'in-progress') {
    return `status ${communication.status}`;
  }
  const notBefore = instantOf(communication.extension?.find((e) => e.url === EXT.notBefore)?.valueDateTime);
  if (notBefore !== undefined && notBefore > ctx.now.getTime()) {
    return `deferred until ${new Date(notBefore).toISOString()}`;
  }
  const sending = communication.statusReason?.coding?.some((c) => c.code === 'sending');
  const claimedAt = instantOf(communication.meta?.lastUpdated) ?? 0;
  if (communication.status === 'in-progress' && sending && ctx.now.getTime() - claimedAt < STALE_CLAIM_MS) {
    return 'being sent by another run';
  }
  return undefined;
}

function statusReason(code: StatusReason, text: string): Communication['statusReason'] {
  return { coding: [{ system: SYSTEM.statusReason, code }], text };
}

/** The Communication without the dispatcher's working state (not-before, status reason). */
function withoutWorkingState(communication: Communication): Communication {
  const { statusReason: _reason, extension, ...rest } = communication;
  const others = (extension ?? []).filter((e) => e.url !== EXT.notBefore);
  return others.length > 0 ? { ...rest, extension: others } : rest;
}

/**
 * Claims the Communication by moving it to in-progress/sending with If-Match on the version read: of two runs
 * (a trigger and the cron, or two crons) only one wins; the other gets 412 and leaves it.
 */
async function claim(ctx: BotContext, communication: Communication): Promise<Communication | undefined> {
  const claimed: Communication = {
    ...withoutWorkingState(communication),
    status: 'in-progress',
    statusReason: statusReason('sending', `Claimed for sending at ${ctx.now.toISOString()}`),
  };
  const version = communication.meta?.versionId;
  try {
    return await ctx.medplum.updateResource(claimed, version ? { headers: { 'If-Match': `W/"${version}"` } } : {});
  } catch (err) {
    console.log(`notifications: could not claim ${refOf(communication)}: ${(err as Error).message}`);
    return undefined;
  }
}

/** One Communication per recipient (partOf the original), so that each has its own status and deferral. */
async function split(ctx: BotContext, communication: Communication): Promise<DispatchOutcome[]> {
  const ref = refOf(communication);
  const claimed = await claim(ctx, communication);
  if (!claimed) {
    return [{ communication: ref, result: 'skipped', reason: 'claimed by another run' }];
  }
  const outcomes: DispatchOutcome[] = [];
  for (const recipient of communication.recipient ?? []) {
    const { id: _id, meta: _meta, identifier: _identifier, ...content } = withoutWorkingState(communication);
    const copy = await createOnce<Communication>(
      ctx.medplum,
      { ...content, status: 'preparation', recipient: [recipient], partOf: [{ reference: ref }] },
      `split/${ref}/${recipient.reference ?? recipient.display ?? ''}`
    );
    outcomes.push(...(await dispatch(ctx, copy)));
  }
  await ctx.medplum.updateResource<Communication>({
    ...withoutWorkingState(claimed),
    status: 'completed',
    note: [...(claimed.note ?? []), { text: 'Sent as one Communication per recipient (partOf this one).' }],
  });
  return [{ communication: ref, result: 'split' }, ...outcomes];
}

type Addressable = Resource & { telecom?: ContactPoint[] };

async function deliver(ctx: BotContext, communication: Communication, recipient: Reference): Promise<DispatchOutcome> {
  const category = categoryOf(communication);
  if (await startedAlready(ctx, communication)) {
    return stop(ctx, communication, 'expired', 'The appointment this reminds of has started.');
  }
  const person = await readRecipient(ctx, recipient);
  if (!person) {
    return stop(ctx, communication, 'no-address', 'The recipient could not be read.');
  }
  const prefs = parsePreferences(await readPreferences(ctx.medplum, refOf(person)));
  if (category && !categoryEnabled(prefs, category)) {
    return stop(ctx, communication, 'opted-out', `The recipient turned off ${category} notifications.`);
  }
  const choice = chooseChannels(prefs, person.telecom ?? [], ctx.now);
  if (choice.send.length === 0) {
    return choice.optedOut.length > 0
      ? stop(ctx, communication, 'opted-out', `The recipient opted out of ${choice.optedOut.join(' and ')}.`)
      : stop(ctx, communication, 'no-address', 'The recipient has no email address or mobile number.');
  }
  const until = communication.priority === 'stat' ? undefined : quietUntil(ctx.now, prefs.quietHours);
  if (until) {
    return defer(ctx, communication, until);
  }
  // Awaited: in Hale's sandbox every client method, getBaseUrl too, answers with a promise.
  const portal = secretString(ctx.event, 'PORTAL_URL', await Promise.resolve(ctx.medplum.getBaseUrl()));
  const message = renderNotification(
    category,
    notificationLink(portal, communication.id ?? ''),
    `${portal.replace(/\/+$/, '')}/settings/notifications`,
    prefs.language
  );
  const { sent, failed, refused } = await sendOn(ctx, choice.send, message);
  if (sent.length === 0) {
    return refused.length === choice.send.length
      ? stop(
          ctx,
          communication,
          'opted-out',
          `The recipient opted out of ${refused.join(' and ')} (refused on sending).`
        )
      : stop(ctx, communication, 'send-failed', `Sending failed (${failed.join('; ')}).`);
  }
  return complete(ctx, communication, sent, failed);
}

interface SendResult {
  readonly sent: Channel[];
  readonly failed: string[];
  /** Channels the server refused because the address opted out. */
  readonly refused: Channel[];
}

async function sendOn(ctx: BotContext, channels: ChannelChoice['send'], message: RenderedMessage): Promise<SendResult> {
  const result: SendResult = { sent: [], failed: [], refused: [] };
  for (const { channel, address } of channels) {
    try {
      if (channel === 'email') {
        await ctx.medplum.sendEmail({ to: address, subject: message.subject, text: message.text });
      } else {
        await ctx.medplum.post('sms/v1/send', { to: address, body: message.sms });
      }
      result.sent.push(channel);
    } catch (err) {
      if (isOptOutRefusal(err)) {
        result.refused.push(channel);
      }
      result.failed.push(`${channel}: ${(err as Error).message}`);
    }
  }
  return result;
}

/**
 * The server refused because the address opted out (Hale's /sms/v1/send answers 409 conflict for a number that
 * texted STOP, even before the preferences resource says so).
 */
function isOptOutRefusal(err: unknown): boolean {
  const outcome = (err as { outcome?: OperationOutcome } | undefined)?.outcome;
  return outcome?.issue?.some((i) => i.code === 'conflict') ?? false;
}

/** A reminder of an appointment that has started is not worth sending (e.g. held back by quiet hours). */
async function startedAlready(ctx: BotContext, communication: Communication): Promise<boolean> {
  if (categoryOf(communication) !== 'appointment-reminder') {
    return false;
  }
  const about = communication.about?.find((a) => typeOf(a) === 'Appointment');
  if (!about) {
    return false;
  }
  const appointment = await ctx.medplum
    .readReference<Appointment>(about as Reference<Appointment>)
    .catch(() => undefined);
  return (instantOf(appointment?.start) ?? Number.POSITIVE_INFINITY) <= ctx.now.getTime();
}

async function readRecipient(ctx: BotContext, recipient: Reference): Promise<Addressable | undefined> {
  const type = typeOf(recipient);
  const people = ['Patient', 'Practitioner', 'RelatedPerson', 'PractitionerRole', 'Organization'];
  if (!type || !people.includes(type)) {
    return undefined;
  }
  return ctx.medplum.readReference(recipient).catch(() => undefined);
}

async function stop(
  ctx: BotContext,
  communication: Communication,
  reason: StatusReason,
  text: string
): Promise<DispatchOutcome> {
  await ctx.medplum.updateResource<Communication>({
    ...withoutWorkingState(communication),
    status: 'stopped',
    statusReason: statusReason(reason, text),
  });
  return { communication: refOf(communication), result: 'stopped', reason };
}

async function defer(ctx: BotContext, communication: Communication, until: Date): Promise<DispatchOutcome> {
  const base = withoutWorkingState(communication);
  await ctx.medplum.updateResource<Communication>({
    ...base,
    status: 'in-progress',
    statusReason: statusReason('quiet-hours', `Deferred by the recipient's quiet hours until ${until.toISOString()}.`),
    extension: [...(base.extension ?? []), { url: EXT.notBefore, valueDateTime: until.toISOString() }],
  });
  return { communication: refOf(communication), result: 'deferred', reason: until.toISOString() };
}

async function complete(
  ctx: BotContext,
  communication: Communication,
  sent: readonly Channel[],
  failed: readonly string[]
): Promise<DispatchOutcome> {
  await ctx.medplum.updateResource<Communication>({
    ...withoutWorkingState(communication),
    status: 'completed',
    sent: ctx.now.toISOString(),
    medium: sent.map((c) => ({ coding: [{ system: PARTICIPATION_MODE, code: MEDIUM[c] }] })),
    ...(failed.length > 0
      ? { note: [...(communication.note ?? []), { text: `Not sent on ${failed.join('; ')}` }] }
      : {}),
  });
  return { communication: refOf(communication), result: 'sent', channels: sent };
}
