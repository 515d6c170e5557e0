import type { QuietHours } from './preferences';

const MINUTES_PER_DAY = 24 * 60;

/** `HH:MM[:SS]` as seconds after midnight, or undefined. */
function secondsOf(time: string): number | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2}))?/.exec(time);
  if (!m) {
    return undefined;
  }
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return h < 24 && min < 60 && s < 60 ? (h * 60 + min) * 60 + s : undefined;
}

/**
 * Seconds after local midnight in the time zone. Intl is part of V8, so it works in the bot sandbox too; an
 * unknown zone falls back to UTC rather than failing the message.
 */
export function localSeconds(now: Date, timeZone: string): number {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(now);
  } catch {
    return now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds();
  }
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (get('hour') % 24) * 3600 + get('minute') * 60 + get('second');
}

/**
 * When the quiet hours in force at `now` end, or undefined when `now` is outside them. Start equal to end means
 * no quiet hours. The end is found by counting local clock time forward, so on the night a clock changes it can be
 * an hour off; the message is then sent an hour early or late, never lost.
 */
export function quietUntil(now: Date, quiet: QuietHours | undefined): Date | undefined {
  if (!quiet) {
    return undefined;
  }
  const start = secondsOf(quiet.start);
  const end = secondsOf(quiet.end);
  if (start === undefined || end === undefined || start === end) {
    return undefined;
  }
  const local = localSeconds(now, quiet.timeZone);
  const inside = start < end ? local >= start && local < end : local >= start || local < end;
  if (!inside) {
    return undefined;
  }
  const wait = (end - local + MINUTES_PER_DAY * 60) % (MINUTES_PER_DAY * 60);
  return new Date(now.getTime() + wait * 1000);
}
