import type { OperationOutcome, Parameters, ParametersParameter, Patient, Schedule, Slot } from '@medplum/fhirtypes';
import { account, userToken } from '../test/consent-fixtures';
import type { FhirResponse, TestServer } from '../test/test-server';
import { SCHEDULING_RULE_SYSTEM } from './vocabulary';

/** Test set-up for the scheduling workflows: providers, patients and schedules as the accounts flow leaves them. */

export interface Person {
  id: string;
  ref: string;
  token: string;
}

export const as = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export const params = (parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });

export async function provider(s: TestServer, family: string): Promise<Person> {
  const p = await s.create({ resourceType: 'Practitioner', name: [{ family }] });
  const token = await userToken(s, await account(s, ['provider'], { type: 'Practitioner', id: p.id }));
  return { id: p.id, ref: `Practitioner/${p.id}`, token };
}

export async function patient(s: TestServer, family: string): Promise<Person> {
  const p = await s.create<Patient>({ resourceType: 'Patient', name: [{ family }] });
  const token = await userToken(s, await account(s, ['patient'], { type: 'Patient', id: p.id }));
  return { id: p.id, ref: `Patient/${p.id}`, token };
}

/** A Schedule of the provider, created as onboarding does (a system client). */
export async function schedule(
  s: TestServer,
  owner: Person,
  extra: Partial<Schedule> = {}
): Promise<Schedule & { id: string }> {
  return s.create<Schedule>({ resourceType: 'Schedule', active: true, actor: [{ reference: owner.ref }], ...extra });
}

/** Weekday hours as the $generate-slots parts. */
export function hours(days: string[], start: string, end: string, name = 'availability'): ParametersParameter {
  return {
    name,
    part: [
      ...days.map((d) => ({ name: 'day', valueCode: d })),
      { name: 'start', valueTime: start },
      { name: 'end', valueTime: end },
    ],
  };
}

export function generate(
  s: TestServer,
  token: string,
  scheduleId: string,
  range: { start: string; end: string; timezone?: string; slotMinutes?: number },
  rules: ParametersParameter[] = [hours(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '12:00')]
): Promise<FhirResponse<Parameters | OperationOutcome>> {
  return s.post(
    `Schedule/${scheduleId}/$generate-slots`,
    params([
      { name: 'start', valueDate: range.start },
      { name: 'end', valueDate: range.end },
      { name: 'timezone', valueCode: range.timezone ?? 'America/New_York' },
      { name: 'slotMinutes', valueInteger: range.slotMinutes ?? 30 },
      ...rules,
    ]),
    as(token)
  );
}

export const value = (p: Parameters | OperationOutcome, name: string): any =>
  (p as Parameters).parameter?.find((x) => x.name === name);

/** The rule an OperationOutcome names (issue[0].details.coding). */
export function ruleOf(body: unknown): string | undefined {
  const coding = (body as OperationOutcome).issue?.[0]?.details?.coding?.find(
    (c) => c.system === SCHEDULING_RULE_SYSTEM
  );
  return coding?.code;
}

/** The slots of a schedule, in start order (system view). */
export async function slotsOf(s: TestServer, scheduleId: string): Promise<(Slot & { id: string })[]> {
  const out: (Slot & { id: string })[] = [];
  let url: string | undefined = `Slot?schedule=Schedule/${scheduleId}&_sort=start&_count=1000`;
  while (url) {
    const b = await s.search(url);
    out.push(...(b.entry ?? []).map((e) => e.resource as Slot & { id: string }));
    url = b.link?.find((l) => l.relation === 'next')?.url;
  }
  return out;
}

/** A local date this many days from today (UTC), as YYYY-MM-DD. */
export function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export function book(s: TestServer, token: string, slotId: string, extra: ParametersParameter[] = []) {
  return s.post(
    `Appointment/$book`,
    params([{ name: 'slot', valueReference: { reference: `Slot/${slotId}` } }, ...extra]),
    as(token)
  );
}
