import { renderNotification } from './templates';
import { NOTIFICATION_CATEGORIES } from './vocabulary';

const LINK = 'https://portal.example.org/notifications/1';
const SETTINGS = 'https://portal.example.org/settings';

describe('PHI-safe templates', () => {
  test('every category has a template of its own, not the generic one', () => {
    const generic = renderNotification(undefined, LINK, SETTINGS);
    const bodies = NOTIFICATION_CATEGORIES.map((c) => renderNotification(c, LINK, SETTINGS).sms);
    expect(new Set(bodies).size).toBe(NOTIFICATION_CATEGORIES.length);
    expect(bodies).not.toContain(generic.sms);
  });

  test.each(NOTIFICATION_CATEGORIES)('%s links to the portal, offers opting out, and fits two SMS segments', (c) => {
    const m = renderNotification(c, LINK, SETTINGS);
    expect(m.text).toContain(LINK);
    expect(m.text).toContain(SETTINGS);
    expect(m.sms).toContain(LINK);
    expect(m.sms).toContain('Reply STOP');
    expect(m.sms.length).toBeLessThanOrEqual(306);
  });
});
