import { twilioSignature, validTwilioSignature } from './twilio-signature';
import { keywordOf } from './inbound-sms';
import { toE164 } from './phone';

// The worked example of https://www.twilio.com/docs/usage/security#validating-requests.
const TOKEN = '12345';
const URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS = new URLSearchParams({
  To: '+18005551212',
  CallSid: 'CA1234567890ABCDE',
  Digits: '1234',
  From: '+12349013030',
  Caller: '+12349013030',
});
const EXPECTED = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

describe('Twilio request signatures', () => {
  test('match the example in Twilio’s documentation, whatever the parameter order', () => {
    expect(twilioSignature(TOKEN, URL, PARAMS)).toBe(EXPECTED);
    expect(validTwilioSignature(TOKEN, EXPECTED, URL, PARAMS)).toBe(true);
  });

  test('are accepted with and without the default port, as Twilio signs either', () => {
    expect(validTwilioSignature(TOKEN, EXPECTED, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS)).toBe(true);
    const withPort = twilioSignature(TOKEN, 'https://mycompany.com:443/myapp.php?foo=1&bar=2', PARAMS);
    expect(validTwilioSignature(TOKEN, withPort, URL, PARAMS)).toBe(true);
  });

  test('fail for another parameter value, URL, token, a cut signature or none', () => {
    const changed = new URLSearchParams(PARAMS);
    changed.set('Digits', '9999');
    expect(validTwilioSignature(TOKEN, EXPECTED, URL, changed)).toBe(false);
    expect(validTwilioSignature(TOKEN, EXPECTED, 'https://mycompany.com/myapp.php?foo=1', PARAMS)).toBe(false);
    expect(validTwilioSignature('54321', EXPECTED, URL, PARAMS)).toBe(false);
    expect(validTwilioSignature(TOKEN, EXPECTED.slice(0, -1), URL, PARAMS)).toBe(false);
    expect(validTwilioSignature(TOKEN, undefined, URL, PARAMS)).toBe(false);
  });
});

describe('inbound keywords and numbers', () => {
  test('a keyword is the whole message, in any case, punctuation and spaces forgiven', () => {
    expect(['STOP', ' stop ', 'Stop.', 'unsubscribe!', 'StopAll', 'info?'].map(keywordOf)).toEqual([
      'STOP',
      'STOP',
      'STOP',
      'UNSUBSCRIBE',
      'STOPALL',
      'INFO',
    ]);
    expect(['please stop', 'STOP NOW', 'stopp', '', 'hasOwnProperty'].map(keywordOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test('numbers are read as E.164 with the usual separators; without a country code they are refused', () => {
    expect(toE164('+64 21 123-4567')).toBe('+64211234567');
    expect(toE164('+1 (415) 555.0100')).toBe('+14155550100');
    expect(toE164('0064211234567')).toBe('+64211234567');
    expect(toE164('021 123 4567')).toBeUndefined();
    expect(toE164('whatsapp:+64211234567')).toBeUndefined();
    expect(toE164('+0123')).toBeUndefined();
    expect(toE164('+1234567890123456')).toBeUndefined();
  });
});
