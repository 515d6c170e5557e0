import { readFileSync, readdirSync } from 'node:fs';
import { OperationOutcomeError } from '@medplum/core';
import { parseJsonBody } from './json-body';

import { SYNTHEA_DIR } from '../test/fixtures';
const options = { maxDepth: 64 };

/** Returns the details text of the single 400 issue thrown for `text`. */
function rejection(text: string, maxDepth = 64): string {
  try {
    parseJsonBody(text, { maxDepth });
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    const outcome = (err as OperationOutcomeError).outcome;
    expect(outcome.issue).toHaveLength(1);
    expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'invalid' });
    return outcome.issue[0]?.details?.text ?? '';
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseJsonBody', () => {
  test('parses every Synthea bundle exactly like JSON.parse (and prints the cost ratio)', () => {
    const texts = readdirSync(SYNTHEA_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readFileSync(`${SYNTHEA_DIR}/${f}`, 'utf8'));
    expect(texts).toHaveLength(12);
    for (const text of texts) {
      expect(parseJsonBody(text, options)).toEqual(JSON.parse(text));
    }
    let plain = Infinity;
    let strict = Infinity;
    for (let round = 0; round < 5; round++) {
      plain = Math.min(
        plain,
        timeMs(() => texts.forEach((t) => JSON.parse(t)))
      );
      strict = Math.min(
        strict,
        timeMs(() => texts.forEach((t) => parseJsonBody(t, options)))
      );
    }
    console.log(`Synthea (12 bundles): JSON.parse ${plain.toFixed(1)} ms, parseJsonBody ${strict.toFixed(1)} ms`);
  });

  test('accepts scalars, empty containers, escapes and surrogate pairs', () => {
    expect(parseJsonBody(' 12 ', options)).toBe(12);
    expect(parseJsonBody('"x"', options)).toBe('x');
    expect(parseJsonBody('[true,false,null,{},[]]', options)).toEqual([true, false, null, {}, []]);
    expect(parseJsonBody('{"a\\"b":"\\n\\t\\/\\\\\\u00e9\\ud83d\\ude00😀"}', options)).toEqual({
      'a"b': '\n\t/\\é😀😀',
    });
    // An escaped backslash followed by 'u0000' is text, not a NUL escape.
    expect(parseJsonBody('"\\\\u0000"', options)).toBe('\\u0000');
  });

  test('keeps JSON.parse number semantics', () => {
    const text = '[0, -0, 1.5e3, 9007199254740993, 1e400, -1E-2, 0.1]';
    expect(parseJsonBody(text, options)).toEqual(JSON.parse(text));
    expect(Object.is((parseJsonBody('-0', options) as number) + 0, 0)).toBe(true);
  });

  test('rejects malformed JSON and says where', () => {
    expect(rejection('{"a": 1,}')).toMatch(/Expected a double-quoted property name at position 8 \(line 1, column 9\)/);
    expect(rejection('{\n  "a": x\n}')).toMatch(/Unexpected character at position 9 \(line 2, column 8\)/);
    expect(rejection('[1 2]')).toMatch(/Expected ',' or ']' after an array element at position 3/);
    expect(rejection('{"a" 1}')).toMatch(/Expected ':' after a property name at position 5/);
    expect(rejection('{"a": 1} x')).toMatch(/Unexpected data after the JSON value at position 9/);
    expect(rejection('')).toMatch(/Unexpected end of input at position 0/);
    expect(rejection('{"a": "abc')).toMatch(/Unterminated string/);
    expect(rejection('[01]')).toMatch(/Invalid number at position/);
    expect(rejection('[1.]')).toMatch(/Invalid number at position/);
    expect(rejection('[-]')).toMatch(/Invalid number at position/);
    expect(rejection('["\\x"]')).toMatch(/Invalid escape sequence/);
    expect(rejection('["\\u12g4"]')).toMatch(/Invalid \\u escape/);
    expect(rejection('[tru]')).toMatch(/Unexpected character at position 1/);
    expect(rejection('["a\tb"]')).toMatch(/Bad control character.*position 3/);
  });

  test('rejects duplicate keys, naming the key and its path', () => {
    expect(rejection('{"a": 1, "a": 2}')).toMatch(/Duplicate object key "a" at \$\.a at position 9/);
    const bundle = '{"entry": [{}, {"resource": {"resourceType": "Patient", "id": "1", "id": "2"}}]}';
    expect(rejection(bundle)).toContain('Duplicate object key "id" at $.entry[1].resource.id');
    // Keys are compared after unescaping, and in objects large enough to switch to a Set.
    expect(rejection('{"ab": 1, "a\\u0062": 2}')).toContain('Duplicate object key "ab"');
    const many = Array.from({ length: 40 }, (_, i) => `"k${i}": ${i}`).join(', ');
    expect(rejection(`{${many}, "k7": 0}`)).toContain('Duplicate object key "k7" at $.k7');
    expect(rejection('{"a": {"weird key": 1, "weird key": 2}}')).toContain('at $.a["weird key"]');
    // The same key in sibling objects is fine.
    expect(parseJsonBody('[{"a": 1}, {"a": 2}]', options)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  test('rejects NUL characters, escaped or raw, in strings and keys', () => {
    expect(rejection('{"a": "x\\u0000y"}')).toMatch(/NUL character \(\\u0000\) in a string at position 8/);
    expect(rejection('{"\\u0000": 1}')).toMatch(/NUL character/);
    expect(rejection('{"a": "x\u0000y"}')).toMatch(/NUL character \(U\+0000\) at position 8/);
    expect(rejection('{"a\u0000": 1}')).toMatch(/NUL character/);
  });

  test('rejects lone UTF-16 surrogates, escaped or raw', () => {
    expect(rejection('["\\ud800"]')).toMatch(/Lone UTF-16 surrogate escape/);
    expect(rejection('["\\ud800x"]')).toMatch(/Lone UTF-16 surrogate escape/);
    expect(rejection('["\\ud800\\u0041"]')).toMatch(/Lone UTF-16 surrogate escape/);
    expect(rejection('["\\udc00\\ud800"]')).toMatch(/Lone UTF-16 surrogate escape/);
    expect(rejection('{"\\udfff": 1}')).toMatch(/Lone UTF-16 surrogate escape/);
    expect(rejection('["ab\ud800"]')).toMatch(/Lone UTF-16 surrogate at position 4/);
    expect(rejection('["\udc00"]')).toMatch(/Lone UTF-16 surrogate at position 2/);
  });

  test('rejects nesting deeper than maxDepth', () => {
    expect(parseJsonBody('[[[]]]', { maxDepth: 3 })).toEqual([[[]]]);
    expect(rejection('[[[[]]]]', 3)).toMatch(/Nesting deeper than 3 levels at position 3/);
    expect(rejection('{"a": {"b": {"c": {}}}}', 3)).toMatch(/Nesting deeper than 3 levels/);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(rejection(deep)).toMatch(/Nesting deeper than 64 levels at position 64/);
  });

  test('keys like __proto__ become own properties and do not pollute prototypes', () => {
    const value = parseJsonBody('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}', options);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(value).toEqual(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'));
  });
});

function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}
