import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import { issueAccessToken } from '../../auth/oauth';
import { sql } from '../../db/sql';
import { account } from '../../test/consent-fixtures';
import type { TestServer } from '../../test/test-server';
import { call, download, poll, startBulkServer } from '../test-support';
import type { Raw } from '../test-support';

/** $import as an EHR uses it: NDJSON bodies or Binary inputs, atomic per file, status like export's. */
let s: TestServer;

beforeAll(async () => {
  s = await startBulkServer();
});
afterAll(async () => {
  await s.stop();
});

const patient = (id: string, family = 'Imported'): Patient => ({ resourceType: 'Patient', id, name: [{ family }] });
const ndjson = (lines: readonly unknown[]): string =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

async function postNdjson(body: string, o: { token?: string; query?: string } = {}): Promise<Raw> {
  const res = await fetch(`${s.base}/$import${o.query ?? ''}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${o.token ?? s.systemToken}`,
      'content-type': 'application/fhir+ndjson',
      prefer: 'respond-async',
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as unknown) : undefined };
}

interface ImportResult {
  output: { type: string; count: number; input: string }[];
  error: { type: string; url: string; input: string }[];
}

async function imported(kickoff: Raw): Promise<ImportResult> {
  expect(kickoff.status).toBe(202);
  const location = kickoff.headers.get('content-location') as string;
  expect(location).toMatch(new RegExp(`^${s.base}/bulkdata/import/[0-9a-f-]{36}$`));
  const done = await poll(s, location);
  expect(done.status).toBe(200);
  return done.json as ImportResult;
}

const readable = async (type: string, id: string): Promise<number> => (await call(s, 'GET', `${type}/${id}`)).status;

describe('POST $import with an NDJSON body', () => {
  test('imports every resource of a good file, each readable under its own id', async () => {
    const lines = [patient('imp-a1'), patient('imp-a2'), patient('imp-a3')];
    const observation = {
      resourceType: 'Observation',
      id: 'imp-a-obs',
      status: 'final',
      code: { text: 'weight' },
      subject: { reference: 'Patient/imp-a1' },
    };
    const result = await imported(await postNdjson(ndjson([...lines, observation])));
    expect(result.error).toEqual([]);
    expect(result.output).toEqual(
      expect.arrayContaining([
        { type: 'Patient', count: 3, input: 'body' },
        { type: 'Observation', count: 1, input: 'body' },
      ])
    );
    for (const id of ['imp-a1', 'imp-a2', 'imp-a3']) {
      expect(await readable('Patient', id)).toBe(200);
    }
    expect(await readable('Observation', 'imp-a-obs')).toBe(200);
  });

  test('a bad line at line 3 imports nothing of the file, and the error names line 3', async () => {
    const body = ndjson([
      patient('imp-b1'),
      patient('imp-b2'),
      '{"resourceType": "Patient", "id": "imp-b3", ',
      patient('imp-b4'),
    ]);
    const result = await imported(await postNdjson(body));
    expect(result.output).toEqual([]);
    expect(result.error).toHaveLength(1);
    const [outcome] = (await download(s, result.error[0]?.url as string)) as OperationOutcome[];
    expect(outcome?.issue[0]?.details?.text).toMatch(/^line 3: /);
    expect(outcome?.issue[0]?.location).toContain('line 3');
    for (const id of ['imp-b1', 'imp-b2', 'imp-b4']) {
      expect(await readable('Patient', id)).toBe(404);
    }
  });

  test('an invalid resource or one of the wrong declared type fails its file with the line number', async () => {
    const invalid = await imported(
      await postNdjson(ndjson([patient('imp-c1'), { resourceType: 'Patient', id: 'imp-c2', gender: 42 }]))
    );
    const [outcome] = (await download(s, invalid.error[0]?.url as string)) as OperationOutcome[];
    expect(outcome?.issue[0]?.details?.text).toMatch(/^line 2: /);
    expect(await readable('Patient', 'imp-c1')).toBe(404);

    const wrongType = await imported(
      await postNdjson(ndjson([patient('imp-c3'), { resourceType: 'Practitioner', id: 'imp-c4' }]), {
        query: '?type=Patient',
      })
    );
    const [typeOutcome] = (await download(s, wrongType.error[0]?.url as string)) as OperationOutcome[];
    expect(typeOutcome?.issue[0]?.details?.text).toMatch(/^line 2: a Practitioner in a file of type Patient/);
  });

  test('importing the same file again is idempotent: no duplicates, no new versions', async () => {
    const body = ndjson([patient('imp-d1'), patient('imp-d2')]);
    await imported(await postNdjson(body));
    const again = await imported(await postNdjson(body));
    expect(again.output).toEqual([{ type: 'Patient', count: 2, input: 'body' }]);
    const found = await call(s, 'GET', 'Patient?_id=imp-d1,imp-d2');
    expect(found.json.total ?? found.json.entry.length).toBe(2);
    const history = await call(s, 'GET', 'Patient/imp-d1/_history');
    expect(history.json.entry).toHaveLength(1);
    expect((await call(s, 'GET', 'Patient/imp-d1')).json.meta.versionId).toBe('1');
  });

  test('a patient or user token is refused with 403, and so is a system token without create/update', async () => {
    const body = ndjson([patient('imp-e1')]);
    const me = (await s.create({ resourceType: 'Patient', name: [{ family: 'Self' }] })).id;
    const patientToken = await s.token({
      scopes: ['patient/*.cruds'],
      patient: me,
      accountId: await account(s, ['patient']),
    });
    expect((await postNdjson(body, { token: patientToken })).status).toBe(403);
    const userToken = await s.token({ scopes: ['user/*.cruds'], accountId: await account(s, ['developer']) });
    expect((await postNdjson(body, { token: userToken })).status).toBe(403);
    const readOnly = await s.token({ scopes: ['system/*.rs'] });
    expect((await postNdjson(body, { token: readOnly })).status).toBe(403);
    expect(await readable('Patient', 'imp-e1')).toBe(404);
  });

  test('without Prefer: respond-async is 400', async () => {
    const res = await call(s, 'POST', '$import', {
      headers: { 'content-type': 'application/fhir+ndjson' },
      body: patient('imp-f1'),
    });
    expect(res.status).toBe(400);
  });
});

describe('POST $import with Parameters naming Binary inputs', () => {
  const binary = async (text: string): Promise<string> =>
    (
      await s.create({
        resourceType: 'Binary',
        contentType: 'application/fhir+ndjson',
        data: Buffer.from(text).toString('base64'),
      })
    ).id;

  test('two files, one bad: the good one is kept, the bad one reported with its input', async () => {
    const good = await binary(ndjson([patient('imp-g1'), patient('imp-g2')]));
    const bad = await binary(ndjson([patient('imp-g3'), 'not json']));
    const res = await call(s, 'POST', '$import', {
      headers: { prefer: 'respond-async' },
      body: {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'input',
            part: [
              { name: 'type', valueCode: 'Patient' },
              { name: 'url', valueUrl: `Binary/${good}` },
            ],
          },
          {
            name: 'input',
            part: [
              { name: 'type', valueCode: 'Patient' },
              { name: 'url', valueReference: { reference: `Binary/${bad}` } },
            ],
          },
        ],
      },
    });
    const result = await imported(res);
    expect(result.output).toEqual([{ type: 'Patient', count: 2, input: `Binary/${good}` }]);
    expect(result.error).toEqual([expect.objectContaining({ type: 'OperationOutcome', input: `Binary/${bad}` })]);
    const [outcome] = (await download(s, result.error[0]?.url as string)) as OperationOutcome[];
    expect(outcome?.issue[0]?.details?.text).toMatch(/^line 2: not valid JSON/);
    expect(await readable('Patient', 'imp-g1')).toBe(200);
    expect(await readable('Patient', 'imp-g3')).toBe(404);
  });

  test('an input that is not a Binary of this server is 400', async () => {
    const res = await call(s, 'POST', '$import', {
      headers: { prefer: 'respond-async' },
      body: {
        resourceType: 'Parameters',
        parameter: [{ name: 'input', part: [{ name: 'url', valueUrl: 'https://elsewhere.example/Patient.ndjson' }] }],
      },
    });
    expect(res.status).toBe(400);
  });
});

describe('status', () => {
  test('is 404 for another client', async () => {
    const res = await postNdjson(ndjson([patient('imp-h1')]));
    await s.hale.db.query(sql`INSERT INTO oauth_client (client_id, name, kind, allowed_scopes, grant_types)
        VALUES ('other-importer', 'Other', 'confidential-asymmetric', '{system/*.cruds}', '{}')`);
    const other = (await issueAccessToken(s.hale.authDeps, { clientId: 'other-importer', scopes: ['system/*.cruds'] }))
      .access_token;
    const status = await call(s, 'GET', res.headers.get('content-location') as string, { token: other });
    expect(status.status).toBe(404);
    await poll(s, res.headers.get('content-location') as string);
  });
});
