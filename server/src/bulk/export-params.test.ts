import type { Bundle, DocumentReference, Observation, OperationOutcome, Provenance } from '@medplum/fhirtypes';
import { observation } from '../test/consent-fixtures';
import type { TestServer } from '../test/test-server';
import { ASYNC, call, exportAll, idsOf } from './test-support';
import { startBulkServer } from './test-support';

/** The kick-off parameters, each against a small known data set. */
let s: TestServer;
const ids: Record<string, string> = {};

function provenance(target: string, recorded: string): Provenance {
  return {
    resourceType: 'Provenance',
    target: [{ reference: target }],
    recorded,
    agent: [{ who: { display: 'lab system' } }],
  };
}

beforeAll(async () => {
  s = await startBulkServer();
  ids.alice = (await s.create({ resourceType: 'Patient', name: [{ family: 'Avery' }] })).id;
  ids.bob = (await s.create({ resourceType: 'Patient', name: [{ family: 'Bishop' }] })).id;
  ids.aliceLab = (await s.create(observation(ids.alice, 'laboratory', '2026-01-02'))).id;
  ids.aliceVitals = (await s.create(observation(ids.alice, 'vital-signs', '2026-01-03'))).id;
  ids.bobLab = (await s.create(observation(ids.bob, 'laboratory', '2026-01-04'))).id;
  ids.practitioner = (await s.create({ resourceType: 'Practitioner', name: [{ family: 'Carter' }] })).id;
  ids.provOld = (await s.create(provenance(`Observation/${ids.aliceLab}`, '2026-01-02T10:00:00Z'))).id;
  ids.provNew = (await s.create(provenance(`Observation/${ids.aliceLab}`, '2026-01-02T11:00:00Z'))).id;
  ids.provPractitioner = (await s.create(provenance(`Practitioner/${ids.practitioner}`, '2026-01-02T12:00:00Z'))).id;
  ids.binary = (await s.create({ resourceType: 'Binary', contentType: 'text/plain', data: 'bm90ZXM=' })).id;
  ids.doc = (
    await s.create<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      subject: { reference: `Patient/${ids.alice}` },
      content: [{ attachment: { url: `Binary/${ids.binary}`, contentType: 'text/plain' } }],
    })
  ).id;
  ids.group = (
    await s.create({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: [{ entity: { reference: `Patient/${ids.alice}` } }],
    })
  ).id;
});
afterAll(async () => {
  await s.stop();
});

describe('_type and _typeFilter', () => {
  test('_type limits the output to those types', async () => {
    const e = await exportAll(s, '$export?_type=Observation');
    expect(Object.keys(e.byType)).toEqual(['Observation']);
    expect(idsOf(e, 'Observation')).toEqual([ids.aliceLab, ids.aliceVitals, ids.bobLab].sort());
  });

  test('without _type, every type the token covers, but not the audit trail', async () => {
    const e = await exportAll(s, '$export');
    expect(Object.keys(e.byType)).toEqual(
      expect.arrayContaining(['Patient', 'Observation', 'Practitioner', 'Provenance', 'Binary', 'Group'])
    );
    expect(e.byType.AuditEvent).toBeUndefined();
  });

  test('_typeFilter is run by the search compiler; several for one type are ORed, commas inside stay values', async () => {
    const lab = await exportAll(
      s,
      `$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?category=laboratory')}`
    );
    expect(idsOf(lab, 'Observation')).toEqual([ids.aliceLab, ids.bobLab].sort());
    const either = await exportAll(
      s,
      `$export?_type=Observation&_typeFilter=${encodeURIComponent(`Observation?category=laboratory&subject=Patient/${ids.bob}`)}` +
        `&_typeFilter=${encodeURIComponent('Observation?category=vital-signs')}`
    );
    expect(idsOf(either, 'Observation')).toEqual([ids.bobLab, ids.aliceVitals].sort());
    const comma = await exportAll(
      s,
      `$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?category=laboratory,vital-signs')}`
    );
    expect(idsOf(comma, 'Observation')).toHaveLength(3);
  });

  test('a _typeFilter the compiler does not know is 400; lenient skips the parameter with a warning', async () => {
    const bad = `$export?_type=Observation&_typeFilter=${encodeURIComponent('Observation?colour=blue')}`;
    const res = await call(s, 'GET', bad, { headers: ASYNC });
    expect(res.status).toBe(400);
    const e = await exportAll(s, bad, { headers: { ...ASYNC, prefer: 'respond-async, handling=lenient' } });
    expect(idsOf(e, 'Observation')).toHaveLength(3);
    expect(JSON.stringify(e.errors)).toMatch(/colour/);
  });
});

describe('_elements', () => {
  test('keeps the listed and the mandatory elements and marks the resource SUBSETTED', async () => {
    const e = await exportAll(s, '$export?_type=Observation,Patient&_elements=Observation.status,Observation.subject');
    const obs = e.byType.Observation?.[0] as Observation;
    expect(Object.keys(obs).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject']);
    expect(obs.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'SUBSETTED' })]));
    const patient = e.byType.Patient?.[0];
    expect(patient?.meta?.tag).toBeUndefined(); // Observation.* does not apply to Patient
    expect((patient as { name?: unknown }).name).toBeDefined();
  });

  test('an element without a type applies to every type; a nested path is 400', async () => {
    const e = await exportAll(s, '$export?_type=Patient&_elements=gender');
    expect(Object.keys(e.byType.Patient?.[0] ?? {}).sort()).toEqual(['id', 'meta', 'resourceType']);
    expect((await call(s, 'GET', '$export?_elements=code.coding', { headers: ASYNC })).status).toBe(400);
    const lenient = await exportAll(s, '$export?_type=Patient&_elements=code.coding', {
      headers: { prefer: 'respond-async, handling=lenient' },
    });
    expect(lenient.byType.Patient?.[0]?.meta?.tag).toBeUndefined();
    expect(JSON.stringify(lenient.errors)).toMatch(/code\.coding/);
  });
});

describe('includeAssociatedData and attachments', () => {
  test('LatestProvenanceResources adds the latest Provenance of each exported resource, and no other', async () => {
    const e = await exportAll(s, '$export?_type=Observation&includeAssociatedData=LatestProvenanceResources');
    expect(idsOf(e, 'Provenance')).toEqual([ids.provNew]);
  });

  test('RelevantProvenanceResources (least restrictive of conflicting values) adds all of them', async () => {
    const e = await exportAll(
      s,
      '$export?_type=Observation&includeAssociatedData=LatestProvenanceResources,RelevantProvenanceResources'
    );
    expect(idsOf(e, 'Provenance')).toEqual([ids.provOld, ids.provNew].sort());
  });

  test('a system export without it returns Provenance only as a type', async () => {
    expect(idsOf(await exportAll(s, '$export?_type=Observation'), 'Provenance')).toEqual([]);
    const all = await exportAll(s, '$export?_type=Provenance');
    expect(idsOf(all, 'Provenance')).toEqual([ids.provOld, ids.provNew, ids.provPractitioner].sort());
  });

  test('a Patient-level export includes the Provenance of the compartment resources by default', async () => {
    const e = await exportAll(s, 'Patient/$export');
    expect(idsOf(e, 'Provenance')).toEqual([ids.provOld, ids.provNew].sort());
    const without = await exportAll(s, 'Patient/$export?_type=Observation');
    expect(without.byType.Provenance).toBeUndefined();
  });

  test('a relative attachment url becomes absolute, and the token reads it', async () => {
    const e = await exportAll(s, '$export?_type=DocumentReference');
    const url = (e.byType.DocumentReference?.[0] as DocumentReference).content[0]?.attachment.url as string;
    expect(url).toBe(`${s.base}/Binary/${ids.binary}`);
    expect((await call(s, 'GET', url)).status).toBe(200);
  });
});

describe('Patient and Group level', () => {
  test('Patient/$export returns the Patient compartment of every patient, no other types', async () => {
    const e = await exportAll(s, 'Patient/$export');
    expect(idsOf(e, 'Patient')).toEqual([ids.alice, ids.bob].sort());
    expect(idsOf(e, 'Observation')).toHaveLength(3);
    expect(e.byType.Practitioner).toBeUndefined();
    expect(e.byType.Binary).toBeUndefined();
  });

  test('asking only for types outside the Patient compartment is 400', async () => {
    for (const type of ['Practitioner', 'Binary']) {
      const res = await call(s, 'GET', `Patient/$export?_type=${type}`, { headers: ASYNC });
      expect(res.status).toBe(400);
      expect((res.json as OperationOutcome).resourceType).toBe('OperationOutcome');
    }
  });

  test('patient (POST) limits the export to those patients; an unknown one is 400, or left out when lenient', async () => {
    const body = (...patients: string[]) => ({
      resourceType: 'Parameters',
      parameter: patients.map((p) => ({ name: 'patient', valueReference: { reference: `Patient/${p}` } })),
    });
    const e = await exportAll(s, 'Patient/$export', { body: body(ids.bob as string) });
    expect(idsOf(e, 'Patient')).toEqual([ids.bob]);
    expect(idsOf(e, 'Observation')).toEqual([ids.bobLab]);
    const unknown = await call(s, 'POST', 'Patient/$export', { headers: ASYNC, body: body('nobody') });
    expect(unknown.status).toBe(400);
    expect((unknown.json as OperationOutcome).issue[0]?.details?.text).toMatch(/Patient\/nobody/);
    const lenient = await exportAll(s, 'Patient/$export', {
      body: body(ids.bob as string, 'nobody'),
      headers: { prefer: 'respond-async, handling=lenient' },
    });
    expect(idsOf(lenient, 'Patient')).toEqual([ids.bob]);
    expect(JSON.stringify(lenient.errors)).toMatch(/Patient\/nobody/);
  });

  test('Group/[id]/$export returns its members’ compartments only', async () => {
    const e = await exportAll(s, `Group/${ids.group}/$export`);
    expect(idsOf(e, 'Patient')).toEqual([ids.alice]);
    expect(idsOf(e, 'Observation')).toEqual([ids.aliceLab, ids.aliceVitals].sort());
    expect(idsOf(e, 'DocumentReference')).toEqual([ids.doc]);
  });

  test('a Group export: a patient outside the Group is 400; a characteristic Group is 400; an unknown Group 404', async () => {
    const outside = await call(s, 'GET', `Group/${ids.group}/$export?patient=Patient/${ids.bob}`, { headers: ASYNC });
    expect(outside.status).toBe(400);
    const defined = await s.create({ resourceType: 'Group', type: 'person', actual: false });
    expect((await call(s, 'GET', `Group/${defined.id}/$export`, { headers: ASYNC })).status).toBe(400);
    expect((await call(s, 'GET', 'Group/unknown/$export', { headers: ASYNC })).status).toBe(404);
  });
});

describe('_since and the snapshot', () => {
  test('_since returns what changed after it, and deletions as transaction Bundles of DELETE entries', async () => {
    const keep = await s.create(observation(ids.bob as string, 'vital-signs', '2026-02-01'));
    const change = await s.create(observation(ids.bob as string, 'vital-signs', '2026-02-02'));
    const remove = await s.create(observation(ids.bob as string, 'vital-signs', '2026-02-03'));
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await s.put(`Observation/${change.id}`, { ...change, status: 'amended' });
    expect((await s.del(`Observation/${remove.id}`)).status).toBeLessThan(300);
    const added = await s.create(observation(ids.bob as string, 'vital-signs', '2026-02-04'));
    const e = await exportAll(s, `$export?_type=Observation&_since=${encodeURIComponent(since)}`);
    expect(idsOf(e, 'Observation')).toEqual([change.id, added.id].sort());
    expect((e.byType.Observation ?? []).find((o) => o.id === change.id)).toMatchObject({ status: 'amended' });
    expect(e.manifest.deleted?.map((d) => d.type)).toEqual(['Bundle']);
    expect(e.deleted).toEqual([
      expect.objectContaining({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'DELETE', url: `Observation/${remove.id}` } }],
      }),
    ]);
    expect((e.deleted[0] as Bundle).entry).toHaveLength(1);
    expect(idsOf(e, 'Observation')).not.toContain(keep.id);
  });

  test('with _since and nothing deleted, deleted is an empty array', async () => {
    const e = await exportAll(s, `$export?_type=Practitioner&_since=${encodeURIComponent(new Date().toISOString())}`);
    expect(e.manifest.deleted).toEqual([]);
    expect((await call(s, 'GET', '$export?_since=yesterday', { headers: ASYNC })).status).toBe(400);
  });
});
