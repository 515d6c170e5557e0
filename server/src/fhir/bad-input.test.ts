import type { OperationOutcome } from '@medplum/fhirtypes';
import type { TestServer } from '../test/test-server';
import { matchIds, startTestServer } from '../test/test-server';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ BODY_LIMIT: '64kb', MAX_JSON_DEPTH: '32' });
});
afterAll(async () => {
  await s?.stop();
});

async function expectOutcome(
  res: { status: number; body: any; headers: Headers },
  status: number,
  text?: RegExp
): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
  expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  if (text) {
    expect(JSON.stringify(res.body)).toMatch(text);
  }
}

const nothingStored = async (family: string): Promise<void> => {
  expect(matchIds(await s.search(`Patient?family=${family}`))).toEqual([]);
};

describe('malformed bodies answer 4xx OperationOutcomes and store nothing', () => {
  test('malformed JSON', async () => {
    await expectOutcome(await s.post('Patient', '{"resourceType":"Patient", "name": [{"family": "Broken"'), 400);
    await nothingStored('broken');
  });
  test('duplicate keys', async () => {
    await expectOutcome(
      await s.post('Patient', '{"resourceType":"Patient","gender":"male","gender":"female","name":[{"family":"Dup"}]}'),
      400,
      /gender/
    );
    await nothingStored('dup');
  });
  test('\\u0000 in a string', async () => {
    await expectOutcome(await s.post('Patient', '{"resourceType":"Patient","name":[{"family":"Nul\\u0000l"}]}'), 400);
  });
  test('a lone surrogate', async () => {
    await expectOutcome(await s.post('Patient', '{"resourceType":"Patient","name":[{"family":"Sur\\ud800x"}]}'), 400);
  });
  test('deeply nested JSON', async () => {
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(200) + ']'.repeat(200) + '}';
    await expectOutcome(await s.post('Patient', deep), 400, /depth|nest/i);
  });
  test('a body over the configured limit answers 413', async () => {
    const big = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Big', given: ['x'.repeat(70 * 1024)] }] });
    await expectOutcome(await s.post('Patient', big), 413);
    await nothingStored('big');
  });
  test('a wrong content type answers 415', async () => {
    await expectOutcome(await s.post('Patient', '<Patient/>', { 'content-type': 'application/xml' }), 415);
  });
  test('a JSON array where a resource belongs answers 400', async () => {
    await expectOutcome(await s.post('Patient', '[1,2,3]'), 400);
  });
  test('XML _format answers 406', async () => {
    await expectOutcome(await s.get('Patient?_format=xml'), 406);
  });
});

describe('invalid resources answer 400 with the FHIRPath of each problem', () => {
  test('a required binding (Observation.status)', async () => {
    const res = await s.post<OperationOutcome>('Observation', {
      resourceType: 'Observation',
      status: 'final-ish',
      code: { text: 'x' },
    });
    await expectOutcome(res, 400);
    expect(res.body.issue?.some((i) => i.expression?.includes('Observation.status'))).toBe(true);
  });
  test('cardinality, wrong type and unknown element, all listed', async () => {
    const res = await s.post<OperationOutcome>('Observation', {
      resourceType: 'Observation',
      status: 'final',
      issued: 12,
      foo: 'bar',
    });
    await expectOutcome(res, 400);
    const paths = (res.body.issue ?? []).flatMap((i) => i.expression ?? []);
    expect(paths.some((p) => p.includes('code'))).toBe(true);
    expect(paths.some((p) => p.includes('issued'))).toBe(true);
    expect(paths.some((p) => p.includes('foo'))).toBe(true);
  });
  test('resourceType in the body must match the URL', async () => {
    await expectOutcome(
      await s.post('Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }),
      400
    );
  });
  test('an invalid id in the URL', async () => {
    await expectOutcome(await s.put('Patient/bad$id', { resourceType: 'Patient', id: 'bad$id' }), 400);
  });
});

describe('bad searches', () => {
  test('unknown resource type', async () => {
    await expectOutcome(await s.get('NotAType?name=x'), 400);
  });
  test('unknown search parameter under strict handling', async () => {
    await expectOutcome(await s.get('Patient?foo=bar', { prefer: 'handling=strict' }), 400, /foo/);
  });
  test('an unsupported modifier', async () => {
    await expectOutcome(await s.get('Patient?birthdate:contains=2000'), 400);
  });
  test('a malformed number and a malformed cursor', async () => {
    await expectOutcome(await s.get('Observation?value-quantity=abc'), 400);
    await expectOutcome(await s.get('Patient?_cursor=garbage'), 400);
  });
  test('a malformed _count', async () => {
    await expectOutcome(await s.get('Patient?_count=ten'), 400);
  });
  test('unknown routes answer 404 OperationOutcome', async () => {
    await expectOutcome(await s.request('GET', `${s.hale.url}/nothing-here`), 404);
  });
});
