import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import type { Answer } from './send';
import { problemWith, send, sendRaw } from './send';

/** Each defect the fuzz suite (http-api.test.ts) found, kept as the shrunk request that showed it. */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s?.stop();
});

function expectRefusal(answer: Answer, status: number): void {
  expect(problemWith(answer)).toBeUndefined();
  expect(answer.status).toBe(status);
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${s.systemToken}` });
const json = (method: string, body: unknown): { method: string; headers: Record<string, string>; body: string } => ({
  method,
  headers: { ...auth(), 'content-type': 'application/fhir+json' },
  body: JSON.stringify(body),
});

describe('search parameter codes named like Object.prototype members are unknown parameters, not a 500', () => {
  test.each(['Patient?constructor=x', 'Patient?toString:exact=x', 'Patient?hasOwnProperty=1&valueOf=2'])(
    'GET %s',
    async (path) => {
      const answer = await send(`${s.base}/${path}`, { method: 'GET', headers: auth() });
      expect(problemWith(answer)).toBeUndefined();
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('Unknown search parameter');
    }
  );

  test('GET Patient?constructor=x with Prefer: handling=strict is a 400', async () => {
    const answer = await send(`${s.base}/Patient?constructor=x`, {
      method: 'GET',
      headers: { ...auth(), prefer: 'handling=strict' },
    });
    expectRefusal(answer, 400);
  });

  test('POST Patient/_search with a form field named constructor', async () => {
    const answer = await send(`${s.base}/Patient/_search`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'constructor=x',
    });
    expect(problemWith(answer)).toBeUndefined();
    expect(answer.status).toBe(200);
  });

  test.each([
    ['PUT', 'Patient?constructor=x', { resourceType: 'Patient' }],
    ['DELETE', 'Patient?constructor=x', undefined],
  ])('conditional %s %s: 400, an unknown criterion would widen what the write acts on', async (method, path, body) => {
    const answer = await send(`${s.base}/${path}`, body ? json(method, body) : { method, headers: auth() });
    expectRefusal(answer, 400);
    expect(answer.body).toContain("Unknown search parameter 'constructor'");
  });

  test('a batch whose entries search, delete and update with ?constructor=x', async () => {
    const answer = await send(
      s.base,
      json('POST', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Patient?constructor=x' } },
          { request: { method: 'DELETE', url: 'Patient?constructor=x' } },
          { resource: { resourceType: 'Patient' }, request: { method: 'PUT', url: 'Patient?constructor=x' } },
        ],
      })
    );
    expect(answer.status).toBe(200);
    const statuses = (JSON.parse(answer.body) as { entry: { response: { status: string } }[] }).entry.map((e) =>
      Number(e.response.status.slice(0, 3))
    );
    expect(statuses.every((st) => st < 500)).toBe(true);
  });
});

describe('conditional creates match resources only, on known parameters only', () => {
  const create = (ifNoneExist: string, family: string): Promise<Answer> => {
    const init = json('POST', { resourceType: 'Patient', name: [{ family }] });
    return send(`${s.base}/Patient`, { ...init, headers: { ...init.headers, 'if-none-exist': ifNoneExist } });
  };

  test.each(['hasOwnProperty=1', 'no-such-param=1'])(
    'If-None-Exist: %s is a 400 and creates nothing (it answered 200 with the warning, as if it had matched)',
    async (ifNoneExist) => {
      const family = `Cond${Math.random().toString(36).slice(2, 10)}`;
      expectRefusal(await create(ifNoneExist, family), 400);
      const found = await send(`${s.base}/Patient?family=${family}`, { method: 'GET', headers: auth() });
      expect((JSON.parse(found.body) as { total?: number }).total).toBe(0);
    }
  );

  test('If-None-Exist on a known parameter still creates once, then finds the match', async () => {
    const family = `Cond${Math.random().toString(36).slice(2, 10)}`;
    const first = await create(`family=${family}`, family);
    expect(first.status).toBe(201);
    const second = await create(`family=${family}`, family);
    expect(second.status).toBe(200);
    expect((JSON.parse(second.body) as { id?: string }).id).toBe((JSON.parse(first.body) as { id?: string }).id);
  });

  test("a transaction entry's ifNoneExist on an unknown parameter fails the transaction with 400", async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient' },
          request: { method: 'POST', url: 'Patient', ifNoneExist: 'constructor=x' },
        },
      ],
    };
    expectRefusal(await send(s.base, json('POST', bundle)), 400);
  });
});

describe('malformed Bundle entries are refused with 400, not a failed audit (500)', () => {
  test.each([0, 'x', null, [null, 1, 'x', []]])('entry: %j', async (entry) => {
    const answer = await send(s.base, json('POST', { resourceType: 'Bundle', type: 'transaction', entry }));
    expectRefusal(answer, 400);
  });
});

describe('a resourceType that is not a string is a 400', () => {
  const bad = { resourceType: { toString: 0 } };
  test('create', async () => {
    expectRefusal(await send(`${s.base}/Patient`, json('POST', bad)), 400);
  });
  test('update', async () => {
    expectRefusal(await send(`${s.base}/Patient/x`, json('PUT', bad)), 400);
  });
  test('a transaction entry', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: bad, request: { method: 'POST', url: 'Patient' } }],
    };
    expectRefusal(await send(s.base, json('POST', bundle)), 400);
  });
});

describe("requests Node's HTTP parser refuses get an OperationOutcome too", () => {
  const raw = (text: string): Promise<Answer> => {
    const { hostname, port } = new URL(s.base);
    return sendRaw(hostname, Number(port), Buffer.from(text, 'latin1'));
  };
  test('an HTTP/1.1 request without Host: 400', async () => {
    expectRefusal(await raw('GET /fhir/R4/Patient HTTP/1.1\r\nConnection: close\r\n\r\n'), 400);
  });
  test('a head over 16 KB: 431', async () => {
    expectRefusal(await raw(`GET /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nX-Huge: ${'a'.repeat(17_000)}\r\n\r\n`), 431);
  });
  test('a space in a header name: 400', async () => {
    expectRefusal(await raw('GET /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'), 400);
  });
  test('two different Content-Lengths: 400', async () => {
    expectRefusal(
      await raw('POST /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n{}'),
      400
    );
  });
  test('an Expect other than 100-continue: 417', async () => {
    expectRefusal(
      await raw('GET /fhir/R4/Patient HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\nConnection: close\r\n\r\n'),
      417
    );
  });
});
