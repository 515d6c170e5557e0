/**
 * Wall-clock time in an IANA time zone to UTC instants, with nothing but Intl: the zone's offset
 * at an instant comes from formatting that instant in the zone. No Temporal (not in Node 24
 * without a flag) and no date library, so the arithmetic is all here and tested across DST.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True for a time zone Intl knows (IANA names such as America/New_York, and UTC). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(zone)) {
    return false;
  }
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of an instant in a zone, as if they were UTC (milliseconds). */
function wallClockMs(utcMs: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') {
      parts[p.type] = Number(p.value);
    }
  }
  return Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0
  );
}

/** The zone's offset from UTC at an instant, in milliseconds (New York in winter: -5 h). */
export function offsetMs(utcMs: number, zone: string): number {
  return wallClockMs(Math.floor(utcMs / 1000) * 1000, zone) - Math.floor(utcMs / 1000) * 1000;
}

const DAY_MS = 86_400_000;

/**
 * The instant at which the zone's clocks show `date` (YYYY-MM-DD) at `minutes` after midnight.
 * A time the clocks skip (the spring-forward gap) has none: undefined. A time they show twice
 * (the autumn hour repeated) is its first occurrence.
 */
export function zonedInstant(date: string, minutes: number, zone: string): Date | undefined {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  // Real zones change offset at most once within a day or so: the offsets a day before and after
  // are the only candidates.
  const candidates = [...new Set([offsetMs(wall - DAY_MS, zone), offsetMs(wall + DAY_MS, zone)])]
    .map((o) => wall - o)
    .filter((utc) => wallClockMs(utc, zone) === wall)
    .sort((a, b) => a - b);
  return candidates[0] === undefined ? undefined : new Date(candidates[0]);
}

/** The zone's calendar date (YYYY-MM-DD) at an instant. */
export function localDate(instant: Date, zone: string): string {
  return new Date(wallClockMs(instant.getTime(), zone)).toISOString().slice(0, 10);
}

/** The instant as the zone's clocks write it, with its offset: 2026-03-09T09:00:00-04:00. */
export function zonedIso(instant: Date, zone: string): string {
  const offset = Math.round(offsetMs(instant.getTime(), zone) / 60_000);
  const local = new Date(instant.getTime() + offset * 60_000).toISOString().slice(0, 19);
  if (offset === 0) {
    return `${local}Z`;
  }
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The weekday of a calendar date (no zone needed: a date is already local). */
export function weekdayOf(date: string): Weekday {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] as Weekday;
}

/** The calendar dates from `start` to `end`, both included. */
export function datesBetween(start: string, end: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= Date.parse(`${end}T00:00:00Z`); t += DAY_MS) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Minutes after midnight of a time (hh:mm or hh:mm:ss; seconds are dropped). */
export function minutesOf(time: string): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
