import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database } from '../db/database';
import type { PendingWrite } from '../storage/flush';
import { loadFhirDefinitions } from '../fhir/definitions';
import type { SearchParamRegistry } from '../storage/search-params';
import { AuditWriter } from './audit-writer';

const event: AuditEvent = {
  resourceType: 'AuditEvent',
  type: { code: 'rest' },
  recorded: '2025-01-01T00:00:00Z',
  agent: [{ requestor: true, who: { reference: 'Patient/p1' } }],
  source: { observer: { display: 'Hale' } },
};

/** The batch statement, replaced by one that waits until the test lets it finish (or fail). */
const mockStatements: { resolve: () => void; reject: (err: Error) => void; rows: number }[] = [];
jest.mock('../storage/flush', () => ({
  flushWrites: (_db: unknown, writes: readonly PendingWrite[]) =>
    new Promise((resolve, reject) => {
      mockStatements.push({ resolve: () => resolve(new Map()), reject, rows: writes.length });
    }),
}));

const tick = () => new Promise((r) => setImmediate(r));

beforeAll(() => {
  loadFhirDefinitions();
});
beforeEach(() => {
  mockStatements.length = 0;
});

function writer(): AuditWriter {
  const searchParams = { lookup: () => undefined } as unknown as SearchParamRegistry;
  return new AuditWriter({ db: {} as Database, searchParams, baseUrl: 'http://h/fhir/R4' });
}

test('events queued while a batch is in flight go together in the next one', async () => {
  const w = writer();
  let firstDone = false;
  const first = w.record(event).then(() => (firstDone = true));
  await tick();
  const rest = Promise.all(Array.from({ length: 5 }, () => w.record(event)));
  await tick();
  expect(mockStatements.map((s) => s.rows)).toEqual([1]);
  expect(firstDone).toBe(false); // not before its commit
  mockStatements[0]?.resolve();
  await first;
  await tick();
  expect(mockStatements.map((s) => s.rows)).toEqual([1, 5]);
  mockStatements[1]?.resolve();
  await rest;
  expect(w.stats).toMatchObject({ batches: 2, events: 6, largestBatch: 5 });
});

test('when a batch fails, every record waiting on it rejects, and the next batch is tried afresh', async () => {
  const w = writer();
  const first = w.record(event);
  await tick();
  const waiting = [w.record(event), w.recordAll([event, event])].map((p) =>
    p.then(
      () => 'ok',
      () => 'rejected'
    )
  );
  mockStatements[0]?.resolve();
  await first;
  await tick();
  mockStatements[1]?.reject(new Error('disk full'));
  expect(await Promise.all(waiting)).toEqual(['rejected', 'rejected']);
  const after = w.record(event);
  await tick();
  mockStatements[2]?.resolve();
  await expect(after).resolves.toBeUndefined();
  expect(w.stats).toMatchObject({ batches: 2, failedBatches: 1 });
});

test('drain waits for queued events, then refuses new ones', async () => {
  const w = writer();
  const pending = w.record(event);
  await tick();
  const drained = w.drain();
  mockStatements[0]?.resolve();
  await drained;
  await expect(pending).resolves.toBeUndefined();
  await expect(w.record(event)).rejects.toThrow(/shut down/);
});
