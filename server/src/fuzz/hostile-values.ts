import fc from 'fast-check';

/**
 * The inputs outside testers throw at a FHIR server: strings that break parsers, SQL, regexes and encodings, numbers
 * at the edges, keys that pollute prototypes, and shapes (deep, wide, wrongly typed) no resource has.
 */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\uffff',
    '\u202e',
    "' OR 1=1 --",
    "'; DROP TABLE resource; --",
    '"',
    '\\',
    '%',
    '_',
    '%00',
    '%ZZ',
    '.*',
    '(a+)+$',
    '[',
    '\\d{99999}',
    '${jndi:ldap://x}',
    '{{7*7}}',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'null',
    'undefined',
    'NaN',
    '-0',
    '1e999',
    '9999-99-99',
    '2026-02-30T25:61:61Z',
    '0000-01-01',
    '1970-01-01T00:00:00+99:99',
    'http://',
    'urn:uuid:',
    'Patient/',
    '#',
    '|',
    '||',
    'a|b|c',
    '$',
    ',',
    ':',
    '*',
    '__proto__',
    'constructor',
    'prototype'
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.double().map(String),
  fc.bigInt().map(String)
);

const keyName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'resourceType',
    'id',
    'meta',
    'extension',
    'contained',
    'text',
    'name',
    'subject',
    'entry',
    'valueQuantity',
    'effectiveDateTime',
    'status',
    'code',
    'reference',
    'toString',
    'hasOwnProperty',
    ''
  ),
  nastyString.filter((s) => s.length < 50)
);

/** Any JSON value, with hostile strings and keys, up to the given depth. */
export function hostileJson(maxDepth: number): fc.Arbitrary<unknown> {
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth },
      fc.constant(null),
      fc.boolean(),
      fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      nastyString,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(keyName, tie('value'), { maxKeys: 6 })
    ),
  }));
  return value;
}

/** An object that starts like a resource of `types` and goes wrong somewhere. */
export function hostileResource(types: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.oneof(fc.constantFrom(...types), nastyString, fc.constant(undefined)),
      fc.dictionary(keyName, hostileJson(4), { maxKeys: 8 })
    )
    .map(([resourceType, rest]) => (resourceType === undefined ? rest : { ...rest, resourceType }));
}

/** Raw JSON texts JSON.stringify cannot produce: duplicate keys, numbers past double range, wrong escapes. */
export const hostileJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    '1',
    '"x"',
    '[]',
    '[{}]',
    '{',
    '}',
    '{"resourceType":"Patient","id":"a","id":"b"}',
    '{"resourceType":"Patient","__proto__":{"admin":true}}',
    '{"resourceType":"Patient","constructor":{"prototype":{"x":1}}}',
    '{"resourceType":"Patient","birthDate":1e999}',
    '{"resourceType":"Patient","multipleBirthInteger":123456789012345678901234567890}',
    '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}',
    '{"resourceType":"Patient","name":[{"family":"\\u0000"}]}',
    '{"resourceType":"Patient","name":[{"family":"\\x41"}]}',
    '{"resourceType":"Patient",}',
    '{"resourceType":"Patient"} trailing',
    '\ufeff{"resourceType":"Patient"}',
    '{"resourceType":"Bundle","type":"transaction","entry":null}',
    '{"resourceType":"Bundle","type":"transaction","entry":[null,1,"x",[]]}'
  ),
  fc
    .integer({ min: 20, max: 3_000 })
    .map((n) => `{"resourceType":"Patient","extension":${'['.repeat(n)}${']'.repeat(n)}}`),
  fc.integer({ min: 20, max: 3_000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  fc
    .integer({ min: 1_000, max: 60_000 })
    .map((n) => `{"resourceType":"Patient","name":[${Array.from({ length: n }, () => '{}').join(',')}]}`),
  fc.string({ unit: 'binary', maxLength: 200 })
);
