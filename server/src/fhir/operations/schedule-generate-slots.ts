import { allOk } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, OperationDefinitionParameter } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import type { AvailabilityRules, Span } from '../../scheduling/availability';
import { schedulingContext } from '../../scheduling/caller';
import { generateSlots } from '../../scheduling/generate';
import type { Weekday } from '../../scheduling/time-zone';
import { WEEKDAYS, isTimeZone, minutesOf } from '../../scheduling/time-zone';
import type { HaleRepository } from '../../storage/repository';
import type { OperationDeps } from './context';
import { OperationInput, invalid } from './parameters';

const span = (docs: string): OperationDefinitionParameter[] => [
  { name: 'start', use: 'in', min: 1, max: '1', type: 'time', documentation: `Local start (hh:mm) ${docs}` },
  { name: 'end', use: 'in', min: 1, max: '1', type: 'time', documentation: 'Local end (hh:mm), after start' },
];
const days = (min: number, docs: string): OperationDefinitionParameter => ({
  name: 'day',
  use: 'in',
  min,
  max: '*',
  type: 'code',
  documentation: `mon | tue | wed | thu | fri | sat | sun ${docs}`,
});

export const scheduleGenerateSlotsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Schedule-generate-slots',
  url: `${HALE_FHIR}/OperationDefinition/Schedule-generate-slots`,
  name: 'GenerateSlots',
  title: 'Generate slots from availability rules',
  status: 'active',
  kind: 'operation',
  code: 'generate-slots',
  description:
    'Creates the free Slots that weekly hours, breaks and exceptions give over a range of local dates in an IANA ' +
    'time zone (09:00 local stays 09:00 local across DST changes). Idempotent: a start that already has a slot on ' +
    'the schedule gets no second one (identifier https://hale.health/fhir/sid/slot <schedule>/<start>). Only ' +
    'future slots are created; existing slots are never changed.',
  resource: ['Schedule'],
  system: false,
  type: false,
  instance: true,
  parameter: [
    { name: 'start', use: 'in', min: 1, max: '1', type: 'date', documentation: 'First local date' },
    { name: 'end', use: 'in', min: 1, max: '1', type: 'date', documentation: 'Last local date (at most 366 days)' },
    { name: 'timezone', use: 'in', min: 1, max: '1', type: 'code', documentation: 'IANA zone, e.g. America/New_York' },
    { name: 'slotMinutes', use: 'in', min: 1, max: '1', type: 'integer', documentation: 'Slot length: 5 to 480' },
    {
      name: 'availability',
      use: 'in',
      min: 1,
      max: '*',
      documentation: 'Weekly hours',
      part: [days(1, ''), ...span('')],
    },
    {
      name: 'break',
      use: 'in',
      min: 0,
      max: '*',
      documentation: 'A recurring break',
      part: [days(0, '(every day when none)'), ...span('')],
    },
    {
      name: 'exception',
      use: 'in',
      min: 0,
      max: '*',
      documentation: 'One date: off (no times), hours off (times), or extra hours (times and available true)',
      part: [
        { name: 'date', use: 'in', min: 1, max: '1', type: 'date' },
        { name: 'start', use: 'in', min: 0, max: '1', type: 'time' },
        { name: 'end', use: 'in', min: 0, max: '1', type: 'time' },
        { name: 'available', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'default false' },
      ],
    },
    { name: 'created', use: 'out', min: 1, max: '1', type: 'integer' },
    { name: 'existing', use: 'out', min: 1, max: '1', type: 'integer', documentation: 'Starts that had a slot' },
    { name: 'past', use: 'out', min: 1, max: '1', type: 'integer', documentation: 'Slots in the past, not created' },
  ],
};

function spanOf(part: OperationInput, what: string): Span | undefined {
  const start = part.one('start', 'time');
  const end = part.one('end', 'time');
  if (start === undefined && end === undefined) {
    return undefined;
  }
  if (start === undefined || end === undefined || minutesOf(end) <= minutesOf(start)) {
    throw invalid(`Each ${what} needs a start and an end after it`);
  }
  return { start: minutesOf(start), end: minutesOf(end) };
}

function daysOf(part: OperationInput): Weekday[] {
  const out = part.all('day', 'code');
  for (const d of out) {
    if (!(WEEKDAYS as readonly string[]).includes(d)) {
      throw invalid(`'${d}' is not a day (mon, tue, wed, thu, fri, sat, sun)`);
    }
  }
  return out as Weekday[];
}

/** The rules in the request, checked. */
export function rulesOf(input: OperationInput): AvailabilityRules {
  const zone = input.one('timezone', 'code') as string;
  if (!isTimeZone(zone)) {
    throw invalid(`'${zone}' is not an IANA time zone`);
  }
  const slotMinutes = input.one('slotMinutes', 'integer') as number;
  if (slotMinutes < 5 || slotMinutes > 480) {
    throw invalid("'slotMinutes' must be from 5 to 480");
  }
  return {
    zone,
    slotMinutes,
    from: input.one('start', 'date') as string,
    to: input.one('end', 'date') as string,
    hours: input.parts('availability').map((p) => ({ days: daysOf(p), ...(spanOf(p, 'availability') as Span) })),
    breaks: input.parts('break').map((p) => ({ days: daysOf(p), ...(spanOf(p, 'break') as Span) })),
    exceptions: input.parts('exception').map((p) => {
      const available = p.one('available', 'boolean') ?? false;
      const hours = spanOf(p, 'exception');
      if (available && !hours) {
        throw invalid('An exception with available true needs the extra hours (start and end)');
      }
      return { date: p.one('date', 'date') as string, span: hours, available };
    }),
  };
}

/** POST Schedule/{id}/$generate-slots */
export async function scheduleGenerateSlotsHandler(
  req: FhirRequest,
  repo: HaleRepository,
  deps: OperationDeps
): Promise<FhirResponse> {
  const rules = rulesOf(OperationInput.parse(scheduleGenerateSlotsOperation, req.body));
  const ctx = await schedulingContext(repo, deps.systemRepository());
  const result = await generateSlots(ctx, req.params.id as string, rules);
  return [
    allOk,
    {
      resourceType: 'Parameters',
      parameter: [
        { name: 'created', valueInteger: result.created },
        { name: 'existing', valueInteger: result.existing },
        { name: 'past', valueInteger: result.past },
      ],
    },
  ];
}
