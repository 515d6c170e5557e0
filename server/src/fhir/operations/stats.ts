import { OperationOutcomeError, Operator, allOk, badRequest } from '@medplum/core';
import type { FhirRequest, FhirResponse } from '@medplum/fhir-router';
import type { OperationDefinition, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { HALE_FHIR } from '../../access/consent/vocabulary';
import type { Sql } from '../../db/sql';
import { sql } from '../../db/sql';
import type { HaleRepository } from '../../storage/repository';
import type { Interval, Series, Statistic } from '../../wellness/stats';
import { STATISTICS, observationStats } from '../../wellness/stats';
import { splitList } from './lastn';

type OperationParameter = NonNullable<OperationDefinition['parameter']>[number];

const param = (name: string, type: string, min = 0, max = '1'): OperationParameter => ({
  name,
  use: 'in',
  min,
  max,
  type,
});

export const statsOperation: OperationDefinition = {
  resourceType: 'OperationDefinition',
  id: 'Observation-stats',
  url: `${HALE_FHIR}/OperationDefinition/Observation-stats`,
  name: 'Stats',
  title: 'Observation statistics',
  status: 'active',
  kind: 'operation',
  code: 'stats',
  affectsState: false,
  description:
    "Statistics of one patient's measurements (the portal's charts): count, minimum, maximum, average (the mean) and " +
    'median of the values of each `code` over a period (`start`/`end`, `period`, or the last `duration` hours), ' +
    'as a whole or per `interval` (day, week, month in `timezone`), with a series per component (systolic and ' +
    'diastolic of a blood pressure). Over what the caller may see only: Consent limits it like a search. Like R4 ' +
    'Observation-stats, but with buckets and the statistics as parts. See docs/wellness.md.',
  resource: ['Observation'],
  system: false,
  type: true,
  instance: false,
  parameter: [
    param('patient', 'string'),
    param('subject', 'string'),
    param('code', 'string', 0, '*'),
    param('system', 'uri'),
    param('coding', 'Coding', 0, '*'),
    param('start', 'dateTime'),
    param('end', 'dateTime'),
    param('period', 'Period'),
    param('duration', 'decimal'),
    param('interval', 'code'),
    param('timezone', 'string'),
    param('statistic', 'code', 0, '*'),
    { name: 'statistics', use: 'out', min: 0, max: '*', type: 'Parameters' },
  ],
};

/** Codes one $stats may ask for. */
const MAX_CODES = 50;
const INTERVALS: readonly Interval[] = ['day', 'week', 'month'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** GET or POST Observation/$stats (query parameters, or a Parameters body). */
export async function statsHandler(req: FhirRequest, repo: HaleRepository): Promise<FhirResponse> {
  const input = inputsOf(req);
  const one = (name: string): string | undefined => {
    const values = input.get(name) ?? [];
    if (values.length > 1) {
      throw invalid(`Parameter '${name}' may be given once`);
    }
    return values[0];
  };
  const patient = patientOf(one('patient'), one('subject'));
  const codes = codesOf(input, one('system'));
  const timezone = timezoneOf(one('timezone'));
  const interval = one('interval');
  if (interval !== undefined && !INTERVALS.includes(interval as Interval)) {
    throw invalid(`Parameter 'interval' is one of ${INTERVALS.join(', ')}`);
  }
  const statistics = statisticsOf(input.get('statistic'));
  const bounds = boundsOf(one('start'), one('end'), one('duration'), timezone);
  const series = await observationStats(repo.queryable, repo.ctx, {
    subject: { code: 'patient', operator: Operator.EQUALS, value: patient },
    codes,
    start: bounds.start?.sql,
    end: bounds.end?.sql,
    interval: interval as Interval | undefined,
    timezone,
  });
  const out: Parameters = {
    resourceType: 'Parameters',
    parameter: series.map((s) => seriesParameter(s, statistics, bounds.start?.text, bounds.end?.text)),
  };
  return [allOk, out];
}

/** Each input parameter's values as text, from the query string (GET) or a Parameters body (POST). */
function inputsOf(req: FhirRequest): Map<string, string[]> {
  const input = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    input.set(name, [...(input.get(name) ?? []), value]);
  };
  const known = new Set((statsOperation.parameter ?? []).filter((p) => p.use === 'in').map((p) => p.name));
  if (req.method === 'POST') {
    const body = req.body as Parameters | undefined;
    if (body !== undefined && body?.resourceType !== 'Parameters') {
      throw invalid('$stats takes a Parameters resource');
    }
    for (const p of body?.parameter ?? []) {
      if (!known.has(p.name)) {
        throw invalid(`Unknown parameter '${p.name}' for $stats`);
      }
      if (p.valuePeriod) {
        for (const edge of ['start', 'end'] as const) {
          const value = p.valuePeriod[edge];
          if (value !== undefined) {
            add(edge, value);
          }
        }
        continue;
      }
      const coding = p.valueCoding;
      const value = coding
        ? `${coding.system ?? ''}|${coding.code ?? ''}`
        : (p.valueString ?? p.valueCode ?? p.valueUri ?? p.valueDateTime ?? p.valueDate ?? p.valueDecimal);
      if (value === undefined) {
        throw invalid(`Parameter '${p.name}' has no value`);
      }
      add(p.name, String(value));
    }
  }
  for (const [name, value] of Object.entries(req.query)) {
    if (!known.has(name)) {
      throw invalid(`Unknown parameter '${name}' for $stats`);
    }
    for (const v of [value].flat()) {
      if (typeof v === 'string') {
        add(name, v);
      }
    }
  }
  return input;
}

function patientOf(patient: string | undefined, subject: string | undefined): string {
  if ((patient === undefined) === (subject === undefined)) {
    throw invalid("$stats needs one of 'patient' (a Patient id) or 'subject' (Patient/<id>)");
  }
  const m =
    subject !== undefined
      ? /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(subject)
      : /^(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(patient ?? '');
  if (!m?.[1]) {
    throw invalid(
      subject !== undefined ? "Parameter 'subject' must be Patient/<id>" : "Parameter 'patient' must be a Patient id"
    );
  }
  return m[1];
}

function codesOf(input: Map<string, string[]>, system: string | undefined): string[] {
  const bare = (input.get('code') ?? []).flatMap(splitList);
  const codes = [
    ...bare.map((c) => (system !== undefined && !c.includes('|') ? `${system}|${c}` : c)),
    ...(input.get('coding') ?? []),
  ];
  if (codes.length === 0) {
    throw invalid("$stats needs 'code' (system|code, comma-separated) or 'coding'");
  }
  if (codes.length > MAX_CODES) {
    throw invalid(`$stats takes at most ${MAX_CODES} codes`);
  }
  return [...new Set(codes)];
}

function timezoneOf(tz: string | undefined): string {
  if (tz === undefined) {
    return 'UTC';
  }
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw invalid(`Parameter 'timezone' must be an IANA time zone such as Pacific/Auckland, got ${tz}`);
  }
}

function statisticsOf(asked: string[] | undefined): Statistic[] {
  const list = (asked ?? []).flatMap(splitList);
  const unknown = list.find((s) => !STATISTICS.includes(s as Statistic));
  if (unknown) {
    throw invalid(`Parameter 'statistic' is one of ${STATISTICS.join(', ')}, got ${unknown}`);
  }
  return list.length ? (list as Statistic[]) : [...STATISTICS];
}

interface Bound {
  sql: Sql;
  text: string;
}

/** Start (inclusive) and end (exclusive; a date-only end includes its day) as SQL, and as given. */
function boundsOf(
  start: string | undefined,
  end: string | undefined,
  duration: string | undefined,
  timezone: string
): { start?: Bound; end?: Bound } {
  if (duration !== undefined) {
    const hours = Number(duration);
    if (start !== undefined || end !== undefined || !/^\d+(\.\d+)?$/.test(duration) || hours <= 0) {
      throw invalid("Parameter 'duration' is a positive number of hours before now, without start, end or period");
    }
    const now = Date.now();
    return {
      start: instant(new Date(now - hours * 3_600_000).toISOString()),
      end: instant(new Date(now).toISOString()),
    };
  }
  const bound = (name: 'start' | 'end', value: string | undefined): Bound | undefined => {
    if (value === undefined) {
      return undefined;
    }
    if (DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) {
      return instant(value);
    }
    if (!DATE.test(value) || Number.isNaN(Date.parse(value))) {
      throw invalid(`Parameter '${name}' must be a date (YYYY-MM-DD) or a dateTime with a time zone, got ${value}`);
    }
    const days = name === 'end' ? 1 : 0;
    return { sql: sql`((${value}::date + ${days}::int)::timestamp AT TIME ZONE ${timezone})`, text: value };
  };
  return { start: bound('start', start), end: bound('end', end) };
}

const instant = (value: string): Bound => ({ sql: sql`${value}::timestamptz`, text: value });

function seriesParameter(
  s: Series,
  statistics: readonly Statistic[],
  start?: string,
  end?: string
): ParametersParameter {
  const period = s.bucket ?? { ...(start ? { start } : {}), ...(end ? { end } : {}) };
  const part: ParametersParameter[] = [{ name: 'code', valueCoding: s.code }];
  if (s.component) {
    part.push({ name: 'component', valueCoding: s.component });
  }
  if (s.unit) {
    part.push({ name: 'unit', valueCode: s.unit });
  }
  if (period.start || period.end) {
    part.push({ name: 'period', valuePeriod: period });
  }
  for (const statistic of statistics) {
    part.push(
      statistic === 'count' ? { name: 'count', valueInteger: s.count } : { name: statistic, valueDecimal: s[statistic] }
    );
  }
  return { name: 'statistics', part };
}

function invalid(text: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(text));
}
