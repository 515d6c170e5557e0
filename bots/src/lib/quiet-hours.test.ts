import { localSeconds, quietUntil } from './quiet-hours';

const at = (iso: string): Date => new Date(iso);
const overnight = { start: '22:00', end: '07:00', timeZone: 'Pacific/Auckland' };

describe('quiet hours', () => {
  test('overnight quiet hours in the recipient zone (Auckland is UTC+13 in March)', () => {
    expect(quietUntil(at('2025-03-10T10:30:00Z'), overnight)?.toISOString()).toBe('2025-03-10T18:00:00.000Z'); // 23:30
    expect(quietUntil(at('2025-03-10T16:00:00Z'), overnight)?.toISOString()).toBe('2025-03-10T18:00:00.000Z'); // 05:00
    expect(quietUntil(at('2025-03-10T18:00:00Z'), overnight)).toBeUndefined(); // 07:00 exactly
    expect(quietUntil(at('2025-03-10T01:00:00Z'), overnight)).toBeUndefined(); // 14:00
  });

  test('same-day quiet hours, equal start and end, and no quiet hours', () => {
    const lunch = { start: '12:00:00', end: '13:30:00', timeZone: 'UTC' };
    expect(quietUntil(at('2025-03-10T12:15:00Z'), lunch)?.toISOString()).toBe('2025-03-10T13:30:00.000Z');
    expect(quietUntil(at('2025-03-10T13:30:00Z'), lunch)).toBeUndefined();
    expect(quietUntil(at('2025-03-10T12:15:00Z'), { ...lunch, end: '12:00:00' })).toBeUndefined();
    expect(quietUntil(at('2025-03-10T12:15:00Z'), undefined)).toBeUndefined();
  });

  test('an unknown time zone is read as UTC', () => {
    expect(localSeconds(at('2025-03-10T12:15:30Z'), 'Mars/Olympus_Mons')).toBe(12 * 3600 + 15 * 60 + 30);
  });
});
