import fc from 'fast-check';
import { account } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { hostileJson, hostileJsonText, hostileResource, nastyString } from './hostile-values';
import type { Answer } from './send';
import { encodeLoosely, problemWith, send, sendRaw } from './send';

/**
 * Property-based fuzzing of the public HTTP API with hostile input. Every property runs a fixed number of times from
 * a fixed seed, so a CI run is bounded and repeatable; FUZZ_SCALE=10 runs ten times as many locally. A failure
 * prints its seed and shrunk counterexample: keep it as a regression case in `regressions` below.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const SEED = 19_2026;
// Per property; ~3 minutes for all of them on a machine at load 8 (docs/reliability.md).
const TIMEOUT_MS = 600_000;

const TYPES = ['Patient', 'Observation', 'Condition', 'Encounter', 'Consent', 'Bundle', 'AuditEvent', 'Bot'] as const;

let s: TestServer;
let sent = 0;
/** Answers by class, so a run that only met refusals (an expired token, say) shows in the summary and fails. */
const byClass = new Map<string, number>();
/** Every other request acts as a patient app (patient/*.cruds for a real Patient), so consent filters are fuzzed too. */
let patientToken = '';
beforeAll(async () => {
  // Tokens that outlive the run (the default 5 minutes would not on a loaded machine).
  s = await startTestServer({ ACCESS_TOKEN_TTL_SECONDS: '3600' });
  const patient = await s.create({ resourceType: 'Patient', name: [{ family: 'Fuzzed' }] });
  const person = await account(s, ['patient'], { type: 'Patient', id: patient.id });
  patientToken = await s.token({ scopes: ['patient/*.cruds'], accountId: person, patient: patient.id });
});
afterAll(async () => {
  // The figure docs/reliability.md reports.
  process.stdout.write(
    `fuzz: ${sent} requests sent, answers by class ${JSON.stringify(Object.fromEntries(byClass))}\n`
  );
  await s?.stop();
});

async function expectSound(answer: Promise<Answer>): Promise<void> {
  sent += 1;
  const received = await answer;
  const cls = `${Math.floor(received.status / 100)}xx`;
  byClass.set(cls, (byClass.get(cls) ?? 0) + 1);
  const problem = problemWith(received);
  if (problem) {
    throw new Error(problem);
  }
}

const fhir = (path: string): string => `${s.base}/${path}`;
const auth = (): Record<string, string> => ({
  authorization: `Bearer ${sent % 2 === 0 ? s.systemToken : patientToken}`,
});
const JSON_TYPE = { 'content-type': 'application/fhir+json' };

const id = fc.oneof(
  fc.uuid(),
  fc.stringMatching(/^[A-Za-z0-9.-]{1,64}$/),
  nastyString.filter((v) => v.length < 2_000)
);

const searchParam = fc.record({
  name: fc.oneof(
    fc.constantFrom(
      '_id',
      '_lastUpdated',
      '_count',
      '_sort',
      '_include',
      '_revinclude',
      '_elements',
      '_summary',
      '_total',
      '_format',
      '_has:Observation:patient:code',
      '_type',
      '_text',
      '_content',
      '_filter',
      'name',
      'family',
      'birthdate',
      'gender',
      'identifier',
      'general-practitioner',
      'general-practitioner.name',
      'subject',
      'subject:Patient.name',
      'patient',
      'code',
      'date',
      'value-quantity',
      'component-code-value-quantity',
      'code-value-quantity',
      'status',
      'category'
    ),
    nastyString.filter((v) => v.length < 200)
  ),
  modifier: fc.option(
    fc.constantFrom(
      ':exact',
      ':contains',
      ':missing',
      ':not',
      ':text',
      ':above',
      ':below',
      ':in',
      ':not-in',
      ':of-type',
      ':identifier',
      ':Patient',
      ':iterate',
      ':',
      '::'
    ),
    { nil: '' }
  ),
  prefix: fc.option(fc.constantFrom('eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'xx'), { nil: '' }),
  value: fc.oneof(
    nastyString,
    fc.constantFrom(
      '2026-01-01',
      '2026',
      '2026-13',
      'http://loinc.org|8867-4',
      '|',
      '5.4|http://unitsofmeasure.org|mg',
      'Patient/x',
      'a,b,c',
      'true',
      'false',
      '-1',
      '0',
      '1000000'
    ),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
  ),
  raw: fc.option(fc.constantFrom('%', '%ZZ', '%00', '%ED%A0%80', '%C0%AF', '&&', '==', '?', '#', '+', '%2B'), {
    nil: '',
  }),
});

describe('hostile input never gets a 5xx, and every refusal is an OperationOutcome', () => {
  test(
    'searches with random parameters, modifiers, prefixes and values',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TYPES, '', 'NotAType'),
          fc.array(searchParam, { minLength: 1, maxLength: 4 }),
          fc.constantFrom('GET', 'POST'),
          async (type, params, method) => {
            const query = params
              .map((p) => `${encodeLoosely(p.name)}${p.modifier}=${p.prefix}${encodeLoosely(p.value)}${p.raw}`)
              .join('&');
            const path = type ? `${type}` : '';
            await expectSound(
              method === 'GET'
                ? send(`${fhir(path)}?${query}`, { method, headers: auth() })
                : send(fhir(`${path}${path ? '/' : ''}_search`), {
                    method,
                    headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
                    body: query,
                  })
            );
          }
        ),
        { seed: SEED, numRuns: runs(2_000) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'creates with random bodies',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...TYPES), hostileResource(TYPES), async (type, body) => {
          await expectSound(
            send(fhir(type), { method: 'POST', headers: { ...auth(), ...JSON_TYPE }, body: JSON.stringify(body) })
          );
        }),
        { seed: SEED + 1, numRuns: runs(2_000) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'updates and patches with random ids and bodies',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TYPES),
          id,
          fc.oneof(hostileResource(TYPES), hostileJson(5)),
          fc.constantFrom('PUT', 'PATCH'),
          async (type, resourceId, body, method) => {
            const contentType = method === 'PATCH' ? 'application/json-patch+json' : 'application/fhir+json';
            await expectSound(
              send(fhir(`${type}/${encodeLoosely(resourceId)}`), {
                method,
                headers: { ...auth(), 'content-type': contentType },
                body: JSON.stringify(body),
              })
            );
          }
        ),
        { seed: SEED + 2, numRuns: runs(1_500) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'transaction and batch Bundles with random entries',
    async () => {
      const entry = fc.record(
        {
          fullUrl: fc.oneof(
            fc.uuid().map((u) => `urn:uuid:${u}`),
            nastyString
          ),
          resource: fc.oneof(hostileResource(TYPES), hostileJson(3)),
          request: fc.record(
            {
              method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'), nastyString),
              url: fc.oneof(
                fc.constantFrom(...TYPES).chain((t) =>
                  fc.oneof(
                    fc.constant(t),
                    id.map((i) => `${t}/${i}`)
                  )
                ),
                nastyString
              ),
              ifNoneExist: nastyString,
              ifMatch: nastyString,
            },
            { requiredKeys: [] }
          ),
        },
        { requiredKeys: [] }
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.constantFrom('transaction', 'batch'), nastyString),
          fc.oneof(fc.array(entry, { maxLength: 8 }), hostileJson(3)),
          async (type, entries) => {
            await expectSound(
              send(fhir(''), {
                method: 'POST',
                headers: { ...auth(), ...JSON_TYPE },
                body: JSON.stringify({ resourceType: 'Bundle', type, entry: entries }),
              })
            );
          }
        ),
        { seed: SEED + 3, numRuns: runs(1_500) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'raw bodies: duplicate keys, deep nesting, huge arrays, bad escapes, binary',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('Patient', 'Observation', ''),
          hostileJsonText,
          fc.constantFrom('POST', 'PUT'),
          async (type, text, method) => {
            const path = method === 'PUT' ? `${type || 'Patient'}/fuzz` : type;
            await expectSound(send(fhir(path), { method, headers: { ...auth(), ...JSON_TYPE }, body: text }));
          }
        ),
        { seed: SEED + 4, numRuns: runs(800) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'ids, versions, operations and paths',
    async () => {
      const segment = fc.oneof(
        id,
        fc.constantFrom(
          '_history',
          '_search',
          '$everything',
          '$validate',
          '$lastn',
          '$stats',
          '$export',
          '$graphql-nope',
          '$',
          '..',
          '.',
          '%2e%2e',
          '%2F'
        )
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TYPES, 'NotAType', '$export', '_history', 'metadata'),
          fc.array(segment, { maxLength: 4 }),
          fc.constantFrom('GET', 'DELETE', 'HEAD', 'OPTIONS', 'POST'),
          async (type, rest, method) => {
            const path = [type, ...rest.map(encodeLoosely)].join('/');
            await expectSound(
              send(fhir(path), { method, headers: auth(), body: method === 'POST' ? '{}' : undefined })
            );
          }
        ),
        { seed: SEED + 5, numRuns: runs(1_500) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'headers: content types, accept, prefer, conditional headers, request ids, bearer tokens',
    async () => {
      // Header values fetch will send: no CR, LF or NUL, and only latin-1.
      const headerValue = fc.oneof(
        nastyString.filter((v) => v.length < 4_000).map((v) => v.replace(/[^\x20-\x7e\x80-\xff]/g, '')),
        fc.constantFrom(
          'application/fhir+json',
          'application/json; charset=latin1',
          'text/html',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/fhir+json;;;',
          '*/*',
          'W/"1"',
          'W/"x"',
          '"',
          'return=representation',
          'handling=strict',
          'respond-async',
          'Patient?name=x',
          'Thu, 01 Jan 1970 00:00:00 GMT',
          'yesterday'
        )
      );
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.constantFrom(
              'content-type',
              'accept',
              'prefer',
              'if-match',
              'if-none-match',
              'if-none-exist',
              'if-modified-since',
              'x-request-id',
              'authorization',
              'origin',
              'x-forwarded-for',
              'content-encoding',
              'accept-encoding'
            ),
            headerValue,
            { maxKeys: 5 }
          ),
          fc.constantFrom(
            'GET Patient',
            'POST Patient',
            'PUT Patient/fuzz-h',
            'POST ',
            'GET metadata',
            'DELETE Patient/fuzz-h'
          ),
          async (headers, route) => {
            const [method = 'GET', path = ''] = route.split(' ');
            const body =
              method === 'GET' || method === 'DELETE'
                ? undefined
                : JSON.stringify({ resourceType: 'Patient', id: 'fuzz-h' });
            await expectSound(send(fhir(path), { method, headers: { ...auth(), ...JSON_TYPE, ...headers }, body }));
          }
        ),
        { seed: SEED + 6, numRuns: runs(1_000) }
      );
    },
    TIMEOUT_MS
  );

  test(
    'requests no client library sends: bad request lines, control bytes, conflicting lengths, oversized heads',
    async () => {
      const { hostname, port } = new URL(s.base);
      const token = `Bearer ${s.systemToken}`;
      const head = fc.constantFrom(
        'GET /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: TOKEN\r\n',
        'POST /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nAuthorization: TOKEN\r\nContent-Type: application/fhir+json\r\n',
        'GET /fhir/R4/Patient HTTP/1.1\r\n',
        'GET /fhir/R4/Pat ient HTTP/1.1\r\nHost: x\r\n',
        'GET fhir/R4/Patient HTTP/1.1\r\nHost: x\r\n',
        'GET /fhir/R4/Patient HTTP/9.9\r\nHost: x\r\n',
        'BREW /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\n',
        'GET /fhir/R4/Patient\r\n',
        '\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n'
      );
      const extra = fc.oneof(
        fc.constantFrom(
          'Content-Length: 5\r\nContent-Length: 7\r\n',
          'Content-Length: -1\r\n',
          'Content-Length: 99999999999999999999\r\n',
          'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n',
          'Transfer-Encoding: gzip, chunked\r\n',
          'Transfer-Encoding: chunked\r\n',
          'X-Bad\u0000Header: 1\r\n',
          'X-Bad: a\u0000b\r\n',
          'Bad Header: 1\r\n',
          ': empty\r\n',
          'X-Folded: a\r\n folded\r\n',
          'Content-Type: application/fhir+json\r\n',
          'Content-Encoding: gzip\r\n',
          'Expect: 100-continue\r\n',
          'Expect: nonsense\r\n',
          'Host: a\r\nHost: b\r\n'
        ),
        fc.integer({ min: 17_000, max: 70_000 }).map((n) => `X-Huge: ${'a'.repeat(n)}\r\n`),
        fc
          .integer({ min: 200, max: 2_000 })
          .map((n) => Array.from({ length: n }, (_, i) => `X-Many-${i}: 1\r\n`).join(''))
      );
      const body = fc.constantFrom(
        '',
        '{}',
        'zz\r\nnot-a-chunk\r\n',
        '0\r\n\r\n',
        '5\r\n{}\r\n0\r\n\r\n',
        '{"resourceType":"Patient"}',
        '\u00ff\u00fe'
      );
      await fc.assert(
        fc.asyncProperty(head, fc.array(extra, { maxLength: 3 }), body, async (h, extras, b) => {
          const request = Buffer.from(
            `${h.replace('TOKEN', token)}${extras.join('')}Connection: close\r\n\r\n${b}`,
            'latin1'
          );
          await expectSound(sendRaw(hostname, Number(port), request));
        }),
        { seed: SEED + 7, numRuns: runs(600) }
      );
    },
    TIMEOUT_MS
  );

  test('the server still answers afterwards, and the run reached past authentication', async () => {
    expect(byClass.get('2xx') ?? 0).toBeGreaterThan(sent / 20);
    const metadata = await s.get('metadata');
    expect(metadata.status).toBe(200);
    const created = await s.create({ resourceType: 'Patient', name: [{ family: 'AfterTheFuzz' }] });
    expect((await s.get(`Patient/${created.id}`)).status).toBe(200);
    expect((await fetch(`${s.hale.url}/readyz`)).status).toBe(200);
  });
});
