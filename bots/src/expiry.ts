/**
 * Expiry (cron, e.g. hourly). Ends what has run out and tells both sides, with a PHI-free notification
 * Communication per party that the dispatcher (notifications.ts) sends:
 *
 * - Consents (status active) whose provision.period.end has passed → inactive.
 * - Relationships (CareTeam with a relationship-type category): temporary and one-off ones at their period.end,
 *   one-off ones also when their visit (CareTeam.encounter) is finished → inactive. Permanent ones last until
 *   the person ends them.
 * - Data-sharing requests (Task code data-sharing-request, status requested) past restriction.period.end, or
 *   older than DATA_SHARING_REQUEST_DAYS (secret, default 30) → cancelled, statusReason expired.
 * - Slot holds (Slot busy-tentative with slot-hold-expires) past their time → free, extension removed; a proposed
 *   or pending Appointment on the slot → cancelled.
 *
 * Idempotent: notifications are keyed by what ended and when, and are queued before the status changes, so a run
 * that dies half-way loses no notification and the next run sends none twice.
 */
import type { BotEvent, MedplumClient } from '@medplum/core';
import type { Appointment, CareTeam, Consent, Encounter, Reference, Slot, Task } from '@medplum/fhirtypes';
import type { BotContext } from './lib/fhir';
import {
  addDays,
  addressable,
  contextOf,
  endInstantOf,
  instantOf,
  refOf,
  searchAll,
  secretNumber,
  typeOf,
} from './lib/fhir';
import { queueNotification } from './lib/notify';
import type { NotificationCategory } from './lib/vocabulary';
import { DATA_SHARING_REQUEST, EXT, SYSTEM } from './lib/vocabulary';

export interface ExpiryResult {
  readonly consents: readonly string[];
  readonly relationships: readonly string[];
  readonly requests: readonly string[];
  readonly slots: readonly string[];
  readonly appointments: readonly string[];
}

export async function handler(medplum: MedplumClient, event: BotEvent): Promise<ExpiryResult> {
  const ctx = contextOf(medplum, event);
  const { slots, appointments } = await releaseSlotHolds(ctx);
  return {
    consents: await expireConsents(ctx),
    relationships: await endRelationships(ctx),
    requests: await expireRequests(ctx),
    slots,
    appointments,
  };
}

const passed = (ctx: BotContext, end: number | undefined): boolean => end !== undefined && end <= ctx.now.getTime();

/** Queues one notification per party, keyed by what ended (`what`, which names the end time too). */
async function notifyParties(
  ctx: BotContext,
  what: string,
  parties: readonly (Reference | undefined)[],
  category: NotificationCategory,
  text: string,
  about: Reference,
  subject?: Reference
): Promise<void> {
  for (const recipient of addressable(parties)) {
    await queueNotification(ctx.medplum, {
      key: `expiry/${what}/${recipient.reference}`,
      recipient,
      category,
      text,
      about: [about],
      ...(subject?.reference && typeOf(subject) === 'Patient' ? { subject: { reference: subject.reference } } : {}),
    });
  }
}

async function expireConsents(ctx: BotContext): Promise<string[]> {
  const ended: string[] = [];
  for (const consent of await searchAll(ctx.medplum, 'Consent', [['status', 'active']])) {
    const end = consent.provision?.period?.end;
    if (!passed(ctx, endInstantOf(end))) {
      continue;
    }
    const parties = [consent.patient, ...(consent.provision?.actor ?? []).map((a) => a.reference)];
    await notifyParties(
      ctx,
      `${refOf(consent)}/${end}`,
      parties,
      'access-ended',
      'A data-sharing permission has ended.',
      { reference: refOf(consent) },
      consent.patient
    );
    await ctx.medplum.updateResource<Consent>({ ...consent, status: 'inactive' });
    ended.push(refOf(consent));
  }
  return ended;
}

async function endRelationships(ctx: BotContext): Promise<string[]> {
  const ended: string[] = [];
  const query = [
    ['status', 'active'],
    ['category', `${SYSTEM.relationshipType}|temporary,${SYSTEM.relationshipType}|one-off`],
  ];
  for (const team of await searchAll(ctx.medplum, 'CareTeam', query)) {
    const why = await whyRelationshipEnds(ctx, team);
    if (!why) {
      continue;
    }
    const parties = [team.subject, ...(team.participant ?? []).map((p) => p.member)];
    await notifyParties(
      ctx,
      `${refOf(team)}/${why}`,
      parties,
      'access-ended',
      'A relationship on your Hale account has ended.',
      { reference: refOf(team) },
      team.subject
    );
    const end =
      team.period?.end && passed(ctx, endInstantOf(team.period.end)) ? team.period.end : ctx.now.toISOString();
    await ctx.medplum.updateResource<CareTeam>({ ...team, status: 'inactive', period: { ...team.period, end } });
    ended.push(refOf(team));
  }
  return ended;
}

/** `period-end-<end>` or `visit-finished`, or undefined while the relationship lasts. */
async function whyRelationshipEnds(ctx: BotContext, team: CareTeam): Promise<string | undefined> {
  const type = team.category?.flatMap((c) => c.coding ?? []).find((c) => c.system === SYSTEM.relationshipType)?.code;
  if (passed(ctx, endInstantOf(team.period?.end))) {
    return `period-end-${team.period?.end}`;
  }
  if (type !== 'one-off' || !team.encounter?.reference) {
    return undefined;
  }
  const encounter = await ctx.medplum.readReference<Encounter>(team.encounter).catch(() => undefined);
  return encounter?.status === 'finished' ? 'visit-finished' : undefined;
}

async function expireRequests(ctx: BotContext): Promise<string[]> {
  const days = secretNumber(ctx.event, 'DATA_SHARING_REQUEST_DAYS', 30);
  const ended: string[] = [];
  const query = [
    ['code', `${SYSTEM.taskCode}|${DATA_SHARING_REQUEST}`],
    ['status', 'requested'],
  ];
  for (const task of await searchAll(ctx.medplum, 'Task', query)) {
    const deadlines = [
      endInstantOf(task.restriction?.period?.end),
      instantOf(task.authoredOn) === undefined
        ? undefined
        : addDays(new Date(instantOf(task.authoredOn) ?? 0), days).getTime(),
    ].filter((d): d is number => d !== undefined);
    const deadline = deadlines.length > 0 ? Math.min(...deadlines) : undefined;
    if (deadline === undefined || !passed(ctx, deadline)) {
      continue;
    }
    const when = new Date(deadline).toISOString();
    await notifyParties(
      ctx,
      `${refOf(task)}/${when}`,
      [task.requester, task.for, task.owner],
      'access-ended',
      'A data-sharing request expired without an answer.',
      { reference: refOf(task) },
      task.for
    );
    await ctx.medplum.updateResource<Task>({
      ...task,
      status: 'cancelled',
      statusReason: { coding: [{ system: SYSTEM.statusReason, code: 'expired' }], text: `Not answered by ${when}` },
      lastModified: ctx.now.toISOString(),
    });
    ended.push(refOf(task));
  }
  return ended;
}

async function releaseSlotHolds(ctx: BotContext): Promise<{ slots: string[]; appointments: string[] }> {
  const slots: string[] = [];
  const appointments: string[] = [];
  for (const slot of await searchAll(ctx.medplum, 'Slot', [['status', 'busy-tentative']])) {
    const expires = slot.extension?.find((e) => e.url === EXT.slotHoldExpires)?.valueDateTime;
    if (!passed(ctx, instantOf(expires))) {
      continue;
    }
    const held = await searchAll(ctx.medplum, 'Appointment', [
      ['slot', refOf(slot)],
      ['status', 'proposed,pending'],
    ]);
    for (const appointment of held) {
      await notifyParties(
        ctx,
        `${refOf(slot)}/${expires}/${refOf(appointment)}`,
        (appointment.participant ?? []).map((p) => p.actor),
        'slot-hold-expired',
        'A held appointment time was released because it was not confirmed in time.',
        { reference: refOf(appointment) }
      );
      await ctx.medplum.updateResource<Appointment>({
        ...appointment,
        status: 'cancelled',
        cancelationReason: { text: 'The hold on its slot expired' },
      });
      appointments.push(refOf(appointment));
    }
    const { extension, ...rest } = slot;
    const others = (extension ?? []).filter((e) => e.url !== EXT.slotHoldExpires);
    await ctx.medplum.updateResource<Slot>({
      ...rest,
      ...(others.length > 0 ? { extension: others } : {}),
      status: 'free',
    });
    slots.push(refOf(slot));
  }
  return { slots, appointments };
}
