import { utf8ToBase64 } from './base64';

test.each(['', 'a', 'ab', 'abc', 'Kōwhai — 7 h 12 min', '# Weekly summary\n\n✓ 3 of 4'])(
  'encodes %j as Buffer does',
  (text) => {
    expect(utf8ToBase64(text)).toBe(Buffer.from(text, 'utf8').toString('base64'));
  }
);
