import type { MockClient } from '@medplum/mock';
import {
  categoryEnabled,
  isOptedOut,
  newPreferences,
  optInChannel,
  optOutChannel,
  parsePreferences,
  readPreferences,
  withCategory,
  withLanguage,
  withOptIn,
  withOptOut,
  withPreferredChannels,
  withQuietHours,
} from './preferences';
import { newMedplum } from './test-support';
import { EXT, PREFERENCES_PROFILE, SYSTEM } from './vocabulary';

describe('the preferences resource (pure functions)', () => {
  test('round-trips every preference through the Basic', () => {
    let basic = newPreferences({ reference: 'Patient/p1' });
    basic = withPreferredChannels(basic, ['sms', 'email']);
    basic = withOptOut(basic, 'email', '2025-03-01T10:00:00Z');
    basic = withQuietHours(basic, { start: '22:00:00', end: '07:00:00', timeZone: 'Pacific/Auckland' });
    basic = withCategory(basic, 'weekly-summary', false);
    basic = withCategory(basic, 'appointment-reminder', true);
    basic = withLanguage(basic, 'mi');
    expect(basic).toMatchObject({
      resourceType: 'Basic',
      meta: { profile: [PREFERENCES_PROFILE] },
      code: { coding: [{ system: SYSTEM.basicCode, code: 'communication-preferences' }] },
      subject: { reference: 'Patient/p1' },
    });
    expect(parsePreferences(basic)).toEqual({
      preferredChannels: ['sms', 'email'],
      optOuts: [{ channel: 'email', date: '2025-03-01T10:00:00Z' }],
      quietHours: { start: '22:00:00', end: '07:00:00', timeZone: 'Pacific/Auckland' },
      categories: { 'weekly-summary': false, 'appointment-reminder': true },
      language: 'mi',
    });
  });

  test('opt-out keeps its first date, opt-in removes it, and setters replace rather than add', () => {
    let basic = withOptOut(newPreferences({ reference: 'Patient/p1' }), 'sms', '2025-01-01T00:00:00Z');
    basic = withOptOut(basic, 'sms', '2025-02-01T00:00:00Z');
    expect(parsePreferences(basic).optOuts).toEqual([{ channel: 'sms', date: '2025-01-01T00:00:00Z' }]);
    expect(isOptedOut(parsePreferences(basic), 'sms')).toBe(true);
    basic = withOptIn(basic, 'sms');
    expect(basic.extension).toBeUndefined();
    basic = withCategory(withCategory(basic, 'care-alert', false), 'care-alert', true);
    expect(basic.extension?.filter((e) => e.url === EXT.categoryPreference)).toHaveLength(1);
    expect(categoryEnabled(parsePreferences(basic), 'care-alert')).toBe(true);
    expect(categoryEnabled(parsePreferences(undefined), 'weekly-summary')).toBe(true);
    expect(withQuietHours(withQuietHours(basic, { start: '22:00', end: '07:00', timeZone: 'UTC' }), undefined)).toEqual(
      basic
    );
  });

  test('ignores malformed extensions', () => {
    const basic = {
      ...newPreferences({ reference: 'Patient/p1' }),
      extension: [
        { url: EXT.preferredChannel, valueCode: 'fax' },
        { url: EXT.channelOptOut, extension: [{ url: 'channel', valueCode: 'pager' }] },
        { url: EXT.quietHours, extension: [{ url: 'start', valueTime: '22:00:00' }] },
      ],
    };
    expect(parsePreferences(basic)).toEqual({ preferredChannels: [], optOuts: [], categories: {} });
  });
});

describe('STOP and START through a MedplumClient', () => {
  let medplum: MockClient;
  beforeEach(() => {
    medplum = newMedplum();
  });

  test('STOP creates the preferences when there are none; START removes the opt-out; one resource throughout', async () => {
    const now = new Date('2025-03-10T10:00:00Z');
    await optOutChannel(medplum, 'Patient/p1', 'sms', now);
    await optOutChannel(medplum, 'Patient/p1', 'sms', now);
    expect(parsePreferences(await readPreferences(medplum, 'Patient/p1')).optOuts).toEqual([
      { channel: 'sms', date: now.toISOString() },
    ]);
    await optInChannel(medplum, 'Patient/p1', 'sms');
    expect(isOptedOut(parsePreferences(await readPreferences(medplum, 'Patient/p1')), 'sms')).toBe(false);
    expect(await medplum.searchResources('Basic', {})).toHaveLength(1);
  });

  test('START from someone without preferences writes nothing', async () => {
    await optInChannel(medplum, 'Patient/p2', 'sms');
    expect(await medplum.searchResources('Basic', {})).toHaveLength(0);
  });
});
