/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * The E.164 form of a phone number written with the usual separators (`+64 21 123-4567`,
 * `+1 (415) 555 0100`, `0064…`), or undefined. A number without its country code cannot be
 * placed and is refused rather than guessed at.
 */
export function toE164(value: string): string | undefined {
  const compact = value.trim().replace(/[\s\-.()]/g, '');
  const plus = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return E164.test(plus) ? plus : undefined;
}
