import type { WithId } from '@medplum/core';
import type { Schedule, Slot } from '@medplum/fhirtypes';
import { invalid } from '../fhir/operations/parameters';
import type { AvailabilityRules } from './availability';
import { slotsFromRules } from './availability';
import type { SchedulingContext } from './caller';
import { assertManages } from './caller';
import { RULES, refused } from './rules';
import { lockKey, searchAll } from './store';
import { datesBetween, zonedIso } from './time-zone';
import { SLOT_ID_SYSTEM } from './vocabulary';

/** Limits of one call: a year of dates, and a number of slots one transaction writes in a few seconds. */
export const MAX_DAYS = 366;
export const MAX_SLOTS = 20_000;

export interface GenerateResult {
  created: number;
  existing: number;
  /** Slots the rules give that start in the past (never created). */
  past: number;
}

/**
 * Schedule/{id}/$generate-slots: the free Slots the availability rules give over a date range.
 * Idempotent: each generated slot has the identifier <schedule>/<start>, and a start that already
 * has a slot on the schedule (generated or not) gets no second one, so running it again for the
 * same range creates nothing and a wider range creates only what is new. Slots are only added:
 * booked, held and existing free slots are left as they are.
 */
export async function generateSlots(
  ctx: SchedulingContext,
  scheduleId: string,
  rules: AvailabilityRules
): Promise<GenerateResult> {
  const schedule = await ctx.repo.readResource<Schedule>('Schedule', scheduleId);
  assertManages(ctx.caller, schedule);
  if (schedule.active === false) {
    throw refused(RULES.scheduleClosed, 'The schedule is closed: open it (active true) before adding slots');
  }
  if (rules.to < rules.from || datesBetween(rules.from, rules.to).length > MAX_DAYS) {
    throw invalid(`The range must run forwards and span at most ${MAX_DAYS} days`);
  }
  const all = slotsFromRules(rules);
  const wanted = all.filter((s) => s.start.getTime() > ctx.now.getTime());
  if (wanted.length > MAX_SLOTS) {
    throw invalid(`The rules give ${wanted.length} slots; one call creates at most ${MAX_SLOTS}`);
  }
  const first = wanted[0];
  const last = wanted[wanted.length - 1];
  if (!first || !last) {
    return { created: 0, existing: 0, past: all.length };
  }
  return ctx.system.withTransaction(async (tx) => {
    // Two runs for one schedule at once would each see the other's slots missing.
    await lockKey(tx, `generate:Schedule/${schedule.id}`);
    const existing = await searchAll<Slot>(
      tx,
      `Slot?schedule=Schedule/${schedule.id}&start=ge${first.start.toISOString()}&start=le${last.start.toISOString()}`
    );
    const taken = new Set(existing.map((s) => Date.parse(s.start)));
    let created = 0;
    for (const s of wanted) {
      if (!taken.has(s.start.getTime())) {
        await tx.createResource(slotResource(schedule, s.start, s.end, rules.zone));
        created++;
      }
    }
    return { created, existing: wanted.length - created, past: all.length - wanted.length };
  });
}

function slotResource(schedule: WithId<Schedule>, start: Date, end: Date, zone: string): Slot {
  return {
    resourceType: 'Slot',
    identifier: [{ system: SLOT_ID_SYSTEM, value: `${schedule.id}/${start.toISOString()}` }],
    schedule: { reference: `Schedule/${schedule.id}` },
    status: 'free',
    ...(schedule.serviceCategory ? { serviceCategory: schedule.serviceCategory } : {}),
    ...(schedule.serviceType ? { serviceType: schedule.serviceType } : {}),
    ...(schedule.specialty ? { specialty: schedule.specialty } : {}),
    // Written in the schedule's local time, with its offset: 09:00 reads as 09:00 to whoever looks.
    start: zonedIso(start, zone),
    end: zonedIso(end, zone),
  };
}
