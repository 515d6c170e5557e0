import type { Bundle, Communication, Consent, OperationOutcome, Parameters } from '@medplum/fhirtypes';
import type { Person } from '../scheduling/test-fixtures';
import { as, params, patient, provider } from '../scheduling/test-fixtures';
import { sharingConsent } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { startTestServer } from '../test/test-server';
import { MESSAGE_CATEGORY_SYSTEM } from './vocabulary';

let s: TestServer;
let dr: Person;
let stranger: Person;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  s = await startTestServer();
  dr = await provider(s, 'Inbox');
  stranger = await provider(s, 'Stranger');
  alice = await patient(s, 'Alice');
  bob = await patient(s, 'Bob');
  await s.create(sharingConsent({ patient: alice.id, actor: { reference: dr.ref } }));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

type Sent = { thread: Communication & { id: string }; message: Communication & { id: string } };

function sent(body: unknown): Sent {
  const p = (body as Parameters).parameter ?? [];
  return {
    thread: p.find((x) => x.name === 'thread')?.resource as Sent['thread'],
    message: p.find((x) => x.name === 'message')?.resource as Sent['message'],
  };
}

const start = (from: Person, to: Person, text = 'Is my dose right?', topic = 'Medication') =>
  s.post(
    'Communication/$send-message',
    params([
      { name: 'recipient', valueReference: { reference: to.ref } },
      { name: 'topic', valueString: topic },
      { name: 'text', valueString: text },
    ]),
    as(from.token)
  );

const reply = (from: Person, threadId: string, text: string) =>
  s.post(
    'Communication/$send-message',
    params([
      { name: 'thread', valueReference: { reference: `Communication/${threadId}` } },
      { name: 'text', valueString: text },
    ]),
    as(from.token)
  );

async function threadsOf(who: Person): Promise<{ unread: number; threads: Map<string, number> }> {
  const res = await s.get<Parameters>('Communication/$threads', as(who.token));
  expect(res.status).toBe(200);
  const threads = new Map<string, number>();
  for (const t of res.body.parameter?.filter((p) => p.name === 'thread') ?? []) {
    const id = t.part?.find((p) => p.name === 'thread')?.resource?.id as string;
    threads.set(id, t.part?.find((p) => p.name === 'unread')?.valueInteger as number);
  }
  return { unread: res.body.parameter?.find((p) => p.name === 'unread')?.valueInteger as number, threads };
}

const notices = async (to: Person, threadId: string): Promise<Communication[]> =>
  ((await s.search(`Communication?recipient=${to.ref}&category=notification&status=preparation`)).entry ?? [])
    .map((e) => e.resource as Communication)
    .filter((c) => c.about?.[0]?.reference === `Communication/${threadId}`);

describe('secure message threads', () => {
  it('lets a patient start a thread with a provider they share their record with, and the provider answer', async () => {
    const res = await start(alice, dr);
    expect(res.status).toBe(201);
    const { thread, message } = sent(res.body);
    expect(thread).toMatchObject({ subject: { reference: alice.ref }, topic: { text: 'Medication' } });
    expect(message).toMatchObject({
      partOf: [{ reference: `Communication/${thread.id}` }],
      sender: { reference: alice.ref },
      recipient: [{ reference: dr.ref }],
      payload: [{ contentString: 'Is my dose right?' }],
    });
    expect((await threadsOf(dr)).threads.get(thread.id)).toBe(1);

    const answer = await reply(dr, thread.id, 'Yes, keep it.');
    expect(answer.status).toBe(200);
    expect(sent(answer.body).message.inResponseTo).toEqual([{ reference: `Communication/${message.id}` }]);
    const messages = await s.get<Bundle>(`Communication/${thread.id}/$messages`, as(alice.token));
    expect(messages.body.entry?.map((e) => (e.resource as Communication).payload?.[0]?.contentString)).toEqual([
      'Is my dose right?',
      'Yes, keep it.',
    ]);
  });

  it('counts unread messages per participant and $mark-read clears them', async () => {
    const { thread } = sent((await start(alice, dr, 'one')).body);
    await reply(alice, thread.id, 'two');
    expect((await threadsOf(dr)).threads.get(thread.id)).toBe(2);
    expect((await threadsOf(alice)).threads.get(thread.id)).toBe(0);
    const read = await s.post<Parameters>(`Communication/${thread.id}/$mark-read`, params([]), as(dr.token));
    expect(read.body.parameter).toEqual([{ name: 'marked', valueInteger: 2 }]);
    expect((await threadsOf(dr)).threads.get(thread.id)).toBe(0);
    const again = await s.post<Parameters>(`Communication/${thread.id}/$mark-read`, params([]), as(dr.token));
    expect(again.body.parameter).toEqual([{ name: 'marked', valueInteger: 0 }]);
  });

  it('notifies the recipient once per run of unread messages, without the message in the notice', async () => {
    const { thread } = sent((await start(alice, dr, 'My results are back', 'Private topic')).body);
    await reply(alice, thread.id, 'Any news?');
    const queued = await notices(dr, thread.id);
    expect(queued).toHaveLength(1);
    const text = JSON.stringify(queued[0]);
    expect(text).not.toMatch(/results|Private|news/);
    expect(queued[0]?.category?.[1]?.coding?.[0]?.code).toBe('message-received');
    await s.post(`Communication/${thread.id}/$mark-read`, params([]), as(dr.token));
    await reply(alice, thread.id, 'Hello?');
    expect(await notices(dr, thread.id)).toHaveLength(2);
  });

  it('refuses a thread without an active relationship, and hides threads from outsiders', async () => {
    expect((await start(bob, dr)).status).toBe(403);
    expect((await start(dr, bob)).status).toBe(403);
    expect((await start(alice, stranger)).status).toBe(403);
    const { thread } = sent((await start(alice, dr)).body);
    expect((await s.get(`Communication/${thread.id}/$messages`, as(stranger.token))).status).toBe(404);
    expect((await s.get(`Communication/${thread.id}/$messages`, as(bob.token))).status).toBe(404);
    expect((await reply(bob, thread.id, 'hi')).status).toBe(404);
  });

  it('ends the conversation when the Consent is revoked', async () => {
    const carol = await patient(s, 'Carol');
    const consent = await s.create<Consent>(sharingConsent({ patient: carol.id, actor: { reference: dr.ref } }));
    const { thread } = sent((await start(carol, dr)).body);
    expect((await threadsOf(dr)).threads.has(thread.id)).toBe(true);
    expect((await s.put(`Consent/${consent.id}`, { ...consent, status: 'inactive' })).status).toBe(200);
    expect((await reply(dr, thread.id, 'Still there?')).status).toBe(403);
    expect((await reply(carol, thread.id, 'Hello?')).status).toBe(403);
    expect((await threadsOf(dr)).threads.has(thread.id)).toBe(false);
  });

  it('refuses REST writes of messages: they are sent and read only through the operations', async () => {
    const { thread, message } = sent((await start(alice, dr)).body);
    const forged: Communication = {
      resourceType: 'Communication',
      status: 'completed',
      category: [{ coding: [{ system: MESSAGE_CATEGORY_SYSTEM, code: 'message' }] }],
      subject: { reference: alice.ref },
      partOf: [{ reference: `Communication/${thread.id}` }],
      sender: { reference: dr.ref },
      recipient: [{ reference: alice.ref }],
    };
    expect((await s.post('Communication', forged, as(alice.token))).status).toBe(403);
    const edited = { ...message, payload: [{ contentString: 'I never said that' }] };
    expect((await s.put(`Communication/${message.id}`, edited, as(alice.token))).status).toBe(403);
  });

  it('refuses bad input with 400', async () => {
    const both = params([
      { name: 'thread', valueReference: { reference: 'Communication/x' } },
      { name: 'recipient', valueReference: { reference: dr.ref } },
      { name: 'topic', valueString: 't' },
      { name: 'text', valueString: 'x' },
    ]);
    expect((await s.post<OperationOutcome>('Communication/$send-message', both, as(alice.token))).status).toBe(400);
    const long = await start(alice, dr, 'x'.repeat(10_001));
    expect(long.status).toBe(400);
    const noTopic = params([
      { name: 'recipient', valueReference: { reference: dr.ref } },
      { name: 'text', valueString: 'x' },
    ]);
    expect((await s.post('Communication/$send-message', noTopic, as(alice.token))).status).toBe(400);
    const plain = await s.create<Communication>({ resourceType: 'Communication', status: 'completed' });
    expect((await reply(alice, plain.id, 'hi')).status).toBe(404);
  });

  it('keeps concurrent messages in one chain and counts every one unread', async () => {
    const { thread, message } = sent((await start(alice, dr, 'first')).body);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => reply(alice, thread.id, `m${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await threadsOf(dr)).threads.get(thread.id)).toBe(21);
    expect(await notices(dr, thread.id)).toHaveLength(1);
    const answered = results.map((r) => sent(r.body).message.inResponseTo?.[0]?.reference);
    expect(new Set(answered).size).toBe(20); // each answers a different message: one chain, no forks
    expect(answered).toContain(`Communication/${message.id}`);
  });
});
