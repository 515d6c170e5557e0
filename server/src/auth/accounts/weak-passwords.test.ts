import { contextWords, weakPasswordReason } from './weak-passwords';

describe('weak password detection', () => {
  test.each([
    'password1234',
    'Password1234',
    'P@ssw0rd2024!',
    'iloveyou1234',
    '!!!sunshine!!!',
    'Summer2024Summer',
    'qwertyuiop12',
    '1qaz2wsx3edc',
    '123456789012',
    '000000000000',
    'abcabcabcabc',
    'zzzzzzzzzzzzzz',
    'passpasspass',
    'correct horse battery staple',
    'ab1234567890',
    'Tr0ub4dor&3Tr0ub4dor&3',
  ])('refuses %s', (p) => {
    expect(weakPasswordReason(p)).toBeDefined();
  });

  test.each([
    'violet kettle harbour 42 tides',
    'marble owl sings at dawn 7',
    'x9$2#kLq!7zR',
    'Kereru-Pohutukawa-1987',
    '839201746352',
  ])('accepts %s', (p) => {
    expect(weakPasswordReason(p)).toBeUndefined();
  });

  test('refuses the person’s own name or email local part with digits around it', () => {
    const context = contextWords(['aroha.ngata', 'Aroha Ngata']);
    expect(weakPasswordReason('ArohaNgata1988', context)).toBe('it is based on your name or email address');
    expect(weakPasswordReason('ngata!!2024!!', context)).toBe('it is based on your name or email address');
    expect(weakPasswordReason('Hale12345678', context)).toBeDefined();
    expect(weakPasswordReason('violet kettle harbour 42 tides', context)).toBeUndefined();
  });
});
