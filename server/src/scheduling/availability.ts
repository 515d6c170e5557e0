import type { Weekday } from './time-zone';
import { datesBetween, weekdayOf, zonedInstant } from './time-zone';

/** A span of one local day, in minutes after midnight ([start, end)). */
export interface Span {
  start: number;
  end: number;
}

/** Availability rules, all in the schedule's local time. */
export interface AvailabilityRules {
  /** IANA time zone the hours are in. */
  zone: string;
  slotMinutes: number;
  /** Weekly opening hours: on these weekdays, this span. */
  hours: readonly (Span & { days: readonly Weekday[] })[];
  /** Recurring breaks: on these weekdays (all when none), this span is not bookable. */
  breaks: readonly (Span & { days: readonly Weekday[] })[];
  /**
   * One-off changes on a date: without a span the whole day is off; with a span that span is off,
   * or, when `available`, open in addition to the weekly hours.
   */
  exceptions: readonly { date: string; span?: Span; available: boolean }[];
  /** First and last local date (both included). */
  from: string;
  to: string;
}

export interface GeneratedSlot {
  start: Date;
  end: Date;
}

/**
 * The slots the rules give, in start order. Slots are laid from the start of each open span, one
 * after another, in wall-clock time: 09:00 local stays 09:00 local on both sides of a DST change.
 * A slot whose local start the clocks skip (spring forward) is left out.
 */
export function slotsFromRules(rules: AvailabilityRules): GeneratedSlot[] {
  const out: GeneratedSlot[] = [];
  const length = rules.slotMinutes * 60_000;
  for (const date of datesBetween(rules.from, rules.to)) {
    for (const span of openSpans(rules, date)) {
      for (let t = span.start; t + rules.slotMinutes <= span.end; t += rules.slotMinutes) {
        const start = zonedInstant(date, t, rules.zone);
        if (start) {
          out.push({ start, end: new Date(start.getTime() + length) });
        }
      }
    }
  }
  return out;
}

/** The bookable spans of one local date: weekly hours plus extra hours, minus breaks and time off. */
export function openSpans(rules: AvailabilityRules, date: string): Span[] {
  const day = weekdayOf(date);
  const todays = rules.exceptions.filter((e) => e.date === date);
  if (todays.some((e) => !e.span && !e.available)) {
    return [];
  }
  const open = merge([
    ...rules.hours.filter((h) => h.days.includes(day)),
    ...todays.filter((e) => e.available && e.span).map((e) => e.span as Span),
  ]);
  const closed = [
    ...rules.breaks.filter((b) => b.days.length === 0 || b.days.includes(day)),
    ...todays.filter((e) => !e.available && e.span).map((e) => e.span as Span),
  ];
  return closed.reduce<Span[]>((spans, cut) => spans.flatMap((s) => subtract(s, cut)), open);
}

function merge(spans: readonly Span[]): Span[] {
  const sorted = spans.map((s) => ({ start: s.start, end: s.end })).sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) {
      last.end = Math.max(last.end, s.end);
    } else {
      out.push(s);
    }
  }
  return out;
}

function subtract(span: Span, cut: Span): Span[] {
  if (cut.end <= span.start || cut.start >= span.end) {
    return [span];
  }
  return [
    { start: span.start, end: cut.start },
    { start: cut.end, end: span.end },
  ].filter((s) => s.end > s.start);
}
