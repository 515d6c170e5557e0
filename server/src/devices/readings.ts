import type { Code } from '../wellness/measurements';

/**
 * What every importer yields, whatever the file: readings in the source's own units (as UCUM codes; the write
 * path converts them to the profile's unit, server/src/wellness/normalise.ts), records it has no measurement for
 * (skipped, counted by reason) and records it cannot read (rejected, with the line and why).
 */

/** The device (or app) a reading came from; one Device resource per distinct key. */
export interface SourceDevice {
  manufacturer?: string;
  model?: string;
  /** What the person calls it ("Jane's Apple Watch"), or the app's name. */
  name: string;
  /** Hardware or software version, when the file says. */
  version?: string;
}

export interface Value {
  value: number;
  /** UCUM code of the value as the file gives it (e.g. [lb_av], {beats}/min, 1 for a fraction). */
  unit: string;
}

export interface Reading {
  /** The measurement's key in server/src/wellness/measurements.ts (heart-rate, body-weight, …). */
  key: string;
  device: SourceDevice;
  /** effectiveDateTime, or effectivePeriod when `end` differs from `start`. FHIR dateTime strings. */
  start: string;
  end?: string;
  value?: Value;
  components?: readonly ({ code: Code } & Value)[];
  /** Observation.method text (HRV profiles require how it was measured). */
  method?: string;
  /** 1-based line of the record in the file, for rejections the write path finds. */
  line: number;
}

export type ImportEvent =
  | { kind: 'reading'; reading: Reading }
  | { kind: 'skip'; reason: string }
  | { kind: 'reject'; line: number; reason: string };

/** A file that cannot be read on (not XML, a CSV without the expected columns …): the import stops. */
export class MalformedFile extends Error {
  constructor(
    message: string,
    readonly line?: number
  ) {
    super(message);
  }
}

export const reading = (r: Reading): ImportEvent => ({ kind: 'reading', reading: r });
export const skip = (reason: string): ImportEvent => ({ kind: 'skip', reason });
export const reject = (line: number, reason: string): ImportEvent => ({ kind: 'reject', line, reason });

/** A finite number from a file's text ("1,234.5" with a thousands separator too), or undefined. */
export function numberOf(text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  const trimmed = text.trim().replace(/,(?=\d{3}(\D|$))/g, '');
  if (trimmed === '' || trimmed === '--') {
    return undefined;
  }
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

const OFFSET = /([+-]\d{2}):?(\d{2})$|Z$/;

/**
 * A FHIR dateTime from the forms the exports use: `2024-01-15 08:30:00 -0500` (Apple), `2024-01-15T08:30:00.000`
 * (Fitbit, no offset), `2024-01-15 08:30:00` (Garmin, Withings), an ISO instant, or a date. A time without an
 * offset is read as UTC (docs/device-imports.md says so per source). Undefined when it is none of these.
 */
export function dateTimeOf(text: string | undefined): string | undefined {
  const raw = text?.trim();
  if (!raw) {
    return undefined;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    return raw;
  }
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(raw);
  if (!m) {
    return undefined;
  }
  const [, date, time, fraction, zone] = m;
  const seconds = time?.length === 5 ? `${time}:00` : time;
  const offset = zone ? zone.replace(OFFSET, (z, h?: string, min?: string) => (h ? `${h}:${min}` : z)) : 'Z';
  const iso = `${date}T${seconds}${fraction ?? ''}${offset}`;
  return Number.isNaN(Date.parse(iso)) ? undefined : iso;
}

/** `start` plus a number of seconds, as a UTC instant. */
export function plusSeconds(start: string, seconds: number): string {
  return new Date(Date.parse(start) + seconds * 1000).toISOString().replace('.000Z', 'Z');
}
