import type { AvailabilityRules } from './availability';
import { openSpans, slotsFromRules } from './availability';
import { isTimeZone, localDate, zonedInstant, zonedIso } from './time-zone';

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;

function rules(extra: Partial<AvailabilityRules>): AvailabilityRules {
  return {
    zone: 'America/New_York',
    slotMinutes: 30,
    hours: [{ days: weekdays, start: 9 * 60, end: 12 * 60 }],
    breaks: [],
    exceptions: [],
    from: '2026-03-02',
    to: '2026-03-02',
    ...extra,
  };
}

describe('time zones', () => {
  test('09:00 in New York is 14:00 UTC before the March change and 13:00 UTC after it', () => {
    expect(zonedInstant('2026-03-06', 9 * 60, 'America/New_York')?.toISOString()).toBe('2026-03-06T14:00:00.000Z');
    expect(zonedInstant('2026-03-09', 9 * 60, 'America/New_York')?.toISOString()).toBe('2026-03-09T13:00:00.000Z');
  });

  test('a time the clocks skip has no instant; a repeated time is its first occurrence', () => {
    expect(zonedInstant('2026-03-08', 2 * 60 + 30, 'America/New_York')).toBeUndefined();
    expect(zonedInstant('2026-11-01', 60 + 30, 'America/New_York')?.toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  test('Auckland (southern hemisphere) moves from +13:00 to +12:00 in April', () => {
    expect(zonedIso(zonedInstant('2026-04-03', 9 * 60, 'Pacific/Auckland') as Date, 'Pacific/Auckland')).toBe(
      '2026-04-03T09:00:00+13:00'
    );
    expect(zonedIso(zonedInstant('2026-04-06', 9 * 60, 'Pacific/Auckland') as Date, 'Pacific/Auckland')).toBe(
      '2026-04-06T09:00:00+12:00'
    );
  });

  test('an unknown zone is refused; UTC and IANA names are known', () => {
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('America/New_York; DROP')).toBe(false);
  });

  test('the local date of an instant is the zone’s', () => {
    expect(localDate(new Date('2026-03-02T03:00:00Z'), 'America/New_York')).toBe('2026-03-01');
  });
});

describe('slotsFromRules', () => {
  test('a week spanning the New York spring change keeps every slot at its local wall-clock time', () => {
    const slots = slotsFromRules(rules({ from: '2026-03-05', to: '2026-03-11' }));
    const local = slots.map((s) => zonedIso(s.start, 'America/New_York'));
    expect(local.filter((t) => t.endsWith('T09:00:00-05:00'))).toEqual([
      '2026-03-05T09:00:00-05:00',
      '2026-03-06T09:00:00-05:00',
    ]);
    expect(local.filter((t) => t.endsWith('T09:00:00-04:00'))).toEqual([
      '2026-03-09T09:00:00-04:00',
      '2026-03-10T09:00:00-04:00',
      '2026-03-11T09:00:00-04:00',
    ]);
    expect(slots).toHaveLength(5 * 6); // five weekdays, 09:00-12:00 in 30-minute slots
    expect(slots.every((s) => s.end.getTime() - s.start.getTime() === 30 * 60_000)).toBe(true);
  });

  test('a week spanning the Auckland autumn change keeps 09:00 local', () => {
    const slots = slotsFromRules(rules({ zone: 'Pacific/Auckland', from: '2026-04-02', to: '2026-04-07' }));
    const nines = slots.filter((s) => zonedIso(s.start, 'Pacific/Auckland').slice(11, 16) === '09:00');
    expect(nines.map((s) => s.start.toISOString())).toEqual([
      '2026-04-01T20:00:00.000Z',
      '2026-04-02T20:00:00.000Z',
      '2026-04-05T21:00:00.000Z',
      '2026-04-06T21:00:00.000Z',
    ]);
  });

  test('hours over the skipped night hour leave out only the slots that do not exist', () => {
    const slots = slotsFromRules(
      rules({
        hours: [{ days: ['sun'], start: 60, end: 4 * 60 }],
        from: '2026-03-08',
        to: '2026-03-08',
        slotMinutes: 60,
      })
    );
    expect(slots.map((s) => zonedIso(s.start, 'America/New_York'))).toEqual([
      '2026-03-08T01:00:00-05:00',
      '2026-03-08T03:00:00-04:00',
    ]);
  });

  test('breaks, days off, hours off and extra hours shape the day', () => {
    const r = rules({
      hours: [{ days: weekdays, start: 9 * 60, end: 17 * 60 }],
      breaks: [{ days: [], start: 12 * 60, end: 13 * 60 }],
      exceptions: [
        { date: '2026-03-03', available: false },
        { date: '2026-03-04', span: { start: 9 * 60, end: 11 * 60 }, available: false },
        { date: '2026-03-07', span: { start: 10 * 60, end: 11 * 60 }, available: true },
      ],
    });
    expect(openSpans(r, '2026-03-02')).toEqual([
      { start: 540, end: 720 },
      { start: 780, end: 1020 },
    ]);
    expect(openSpans(r, '2026-03-03')).toEqual([]);
    expect(openSpans(r, '2026-03-04')).toEqual([
      { start: 660, end: 720 },
      { start: 780, end: 1020 },
    ]);
    expect(openSpans(r, '2026-03-07')).toEqual([{ start: 600, end: 660 }]); // a Saturday opened once
    expect(openSpans(r, '2026-03-08')).toEqual([]);
  });

  test('a span that is not a whole number of slots ends with the last slot that fits', () => {
    const slots = slotsFromRules(rules({ hours: [{ days: weekdays, start: 9 * 60, end: 10 * 60 + 50 }] }));
    expect(slots.map((s) => zonedIso(s.start, 'America/New_York').slice(11, 16))).toEqual(['09:00', '09:30', '10:00']);
  });
});
