import type { TypedValue } from '@medplum/core';
import { badRequest, OperationOutcomeError } from '@medplum/core';
import type { Period, Timing } from '@medplum/fhirtypes';
import type { IndexRows } from './rows';

export interface DateRange {
  /** First millisecond the value covers, as an ISO 8601 UTC instant (or '-infinity'). */
  low: string;
  /** Last millisecond the value covers, as an ISO 8601 UTC instant (or 'infinity'). */
  high: string;
}

/**
 * FHIR date, dateTime and instant, plus minute precision (`2024-07-15T10:00`), which search
 * query values may use. Seconds may carry any number of fraction digits.
 */
const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * The range of instants a date value covers, by its precision: '2024' is all of 2024, '2024-07' all
 * of July, '2024-07-15T10:00:00+02:00' the second 08:00:00.000–08:00:00.999 UTC, '…T10:00:00.250Z'
 * exactly that millisecond. A time without a zone is taken as UTC; a date without time is taken as
 * the UTC day (FHIR dates have no zone). The search compiler uses this for query values too.
 * Throws a 400 OperationOutcomeError on anything that is not a valid FHIR date/dateTime/instant,
 * impossible calendar dates (2023-02-30) included.
 */
export function dateRange(value: string): DateRange {
  const range = tryDateRange(value);
  if (!range) {
    throw new OperationOutcomeError(badRequest(`Invalid date: ${value}`));
  }
  return range;
}

function tryDateRange(value: string): DateRange | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) {
    return undefined;
  }
  const [, year = '', month, day, hour, minute, second, fraction, zone] = m;
  if (month === undefined) {
    return { low: `${year}-01-01T00:00:00.000Z`, high: `${year}-12-31T23:59:59.999Z` };
  }
  const y = Number(year);
  const mo = Number(month);
  if (mo < 1 || mo > 12) {
    return undefined;
  }
  const lastDay = daysInMonth(y, mo);
  if (day === undefined) {
    return { low: `${year}-${month}-01T00:00:00.000Z`, high: `${year}-${month}-${lastDay}T23:59:59.999Z` };
  }
  const d = Number(day);
  if (d < 1 || d > lastDay) {
    return undefined;
  }
  if (hour === undefined || minute === undefined) {
    return { low: `${year}-${month}-${day}T00:00:00.000Z`, high: `${year}-${month}-${day}T23:59:59.999Z` };
  }
  return timeRange(y, mo, d, Number(hour), Number(minute), second, fraction, zone);
}

function timeRange(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  second: string | undefined,
  fraction: string | undefined,
  zone: string | undefined
): DateRange | undefined {
  const s = second === undefined ? 0 : Number(second);
  if (h > 23 || mi > 59 || s > 60) {
    return undefined;
  }
  let ms = 0;
  let span = second === undefined ? MINUTE_MS - 1 : 999;
  if (fraction !== undefined) {
    ms = Number(fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0'));
    span = fraction.length >= 3 ? 0 : 10 ** (3 - fraction.length) - 1;
  }
  const offset = zoneOffsetMinutes(zone);
  if (offset === undefined) {
    return undefined;
  }
  const low = epochMillis(y, mo, d, h, mi, s, ms) - offset * MINUTE_MS;
  return { low: isoInstant(low), high: isoInstant(low + span) };
}

function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined || zone === 'Z') {
    return 0;
  }
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 14 || minutes > 59) {
    return undefined;
  }
  const offset = hours * 60 + minutes;
  return zone.startsWith('-') ? -offset : offset;
}

/*
 * Calendar arithmetic by hand (H. Hinnant's days_from_civil / civil_from_days): Date.toISOString costs
 * about a microsecond, several times the rest of the indexing of a date, and Date.UTC reads years 0–99
 * as 1900–1999.
 */

function epochMillis(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const year = mo <= 2 ? y - 1 : y;
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const dayOfYear = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146097 + dayOfEra - 719468;
  return ((days * 24 + h) * 60 + mi) * MINUTE_MS + s * 1000 + ms;
}

/** Formats like Date.toISOString; instants a zone offset pushes outside years 1–9999 become the infinities. */
function isoInstant(millis: number): string {
  const days = Math.floor(millis / DAY_MS);
  let rest = millis - days * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / MINUTE_MS);
  rest -= mi * MINUTE_MS;
  const s = Math.floor(rest / 1000);
  const ms = rest - s * 1000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const d = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const mo = mp < 10 ? mp + 3 : mp - 9;
  const y = yearOfEra + era * 400 + (mo <= 2 ? 1 : 0);
  if (y < 1) {
    return '-infinity';
  }
  if (y > 9999) {
    return 'infinity';
  }
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Date rows: date/dateTime/instant by precision; a Period from its start's low to its end's high,
 * open ends as PostgreSQL's '-infinity'/'infinity'; a Timing by its events and repeat.boundsPeriod.
 * Strings (Condition.onsetString and the like) are indexed only when they are dates.
 */
export function appendDateRows(values: readonly TypedValue[], sp: number, grp: number, rows: IndexRows): void {
  for (const { type, value } of values) {
    if (typeof value === 'string') {
      const range = tryDateRange(value);
      if (range) {
        rows.date.push({ sp, grp, low: range.low, high: range.high });
      }
    } else if (type === 'Period') {
      appendPeriod(value as Period, sp, grp, rows);
    } else if (type === 'Timing') {
      appendTiming(value as Timing, sp, grp, rows);
    }
  }
}

function appendPeriod(period: Period, sp: number, grp: number, rows: IndexRows): void {
  const start = typeof period.start === 'string' ? tryDateRange(period.start) : undefined;
  const end = typeof period.end === 'string' ? tryDateRange(period.end) : undefined;
  if (start || end) {
    rows.date.push({ sp, grp, low: start?.low ?? '-infinity', high: end?.high ?? 'infinity' });
  }
}

function appendTiming(timing: Timing, sp: number, grp: number, rows: IndexRows): void {
  for (const event of timing.event ?? []) {
    const range = typeof event === 'string' ? tryDateRange(event) : undefined;
    if (range) {
      rows.date.push({ sp, grp, low: range.low, high: range.high });
    }
  }
  const bounds = timing.repeat?.boundsPeriod;
  if (bounds) {
    appendPeriod(bounds, sp, grp, rows);
  }
}
