/**
 * Calendar helpers. All instants are epoch milliseconds; a patient's wall-clock time is rendered
 * with that patient's fixed UTC offset so timestamps carry realistic, non-UTC offsets (which
 * exercises a server's date-search normalisation) while staying independent of the host zone.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const YEAR_MS = 365.25 * DAY_MS;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses 'YYYY-MM-DD' to UTC midnight, rejecting impossible dates such as 2025-02-30. */
export function parseDate(value: string): number {
  const match = DATE_PATTERN.exec(value);
  if (!match) {
    throw new RangeError(`Expected a date as YYYY-MM-DD, got '${value}'`);
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  if (formatDate(ms) !== value) {
    throw new RangeError(`Not a calendar date: '${value}'`);
  }
  return ms;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** The UTC calendar date of an instant, as a FHIR date. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** The patient's local calendar date of an instant. */
export function formatLocalDate(ms: number, offsetMinutes: number): string {
  return formatDate(ms + offsetMinutes * MINUTE_MS);
}

/** A FHIR dateTime/instant with seconds and the given fixed offset, e.g. 2025-03-14T09:30:00-05:00. */
export function formatDateTime(ms: number, offsetMinutes: number): string {
  const local = new Date(Math.floor((ms + offsetMinutes * MINUTE_MS) / 1000) * 1000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? 'Z' : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return (
    `${formatDate(local.getTime())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:` +
    `${pad(local.getUTCSeconds())}${zone}`
  );
}

/** The UTC instant at which the patient's local clock shows `minutes` past local midnight of `dayMs`. */
export function localTime(dayMs: number, minutes: number, offsetMinutes: number): number {
  const localMidnight = Math.floor((dayMs + offsetMinutes * MINUTE_MS) / DAY_MS) * DAY_MS;
  return localMidnight - offsetMinutes * MINUTE_MS + minutes * MINUTE_MS;
}

/** Whole years between two instants (birthday-accurate, in UTC calendar terms). */
export function ageInYears(birthMs: number, atMs: number): number {
  const birth = new Date(birthMs);
  const at = new Date(atMs);
  let years = at.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    at.getUTCMonth() < birth.getUTCMonth() ||
    (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) {
    years -= 1;
  }
  return years;
}

/** Fractional years between two instants, for smooth growth curves and trends. */
export function yearsBetween(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / YEAR_MS;
}
