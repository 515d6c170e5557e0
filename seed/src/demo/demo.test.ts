import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Appointment, Bundle, Observation, Parameters, PractitionerRole, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../../../server/src/config';
import { createLogger } from '../../../server/src/logger';
import { LISTING_PROFILES } from '../../../server/src/marketplace/vocabulary';
import type { RunningHale } from '../../../server/src/server';
import { startHale } from '../../../server/src/server';
import type { TestDatabase } from '../../../server/src/test/test-db';
import { createTestDatabase } from '../../../server/src/test/test-db';
import { demoRecord } from './dataset';
import { DEMO_SPECIALTIES } from './directory';
import type { DemoReport } from './load';
import { DemoRefused, loadDemo } from './load';
import { DEMO_ADMIN, DEMO_PASSWORD, DEMO_PATIENT, DEMO_PROVIDER } from './people';
import { signInToPortal } from './portal-sign-in';

const REFERENCE_DATE = '2026-06-30';
const HALE_PROFILE = /^https:\/\/hale\.health\/fhir\/StructureDefinition\/hale-/;

let db: TestDatabase;
let report: DemoReport;
let hale: RunningHale;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: String(db.poolSize ?? 10),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  report = await loadDemo({ seed: 7, referenceDate: REFERENCE_DATE, env: env(), log: () => undefined });
  const config = loadConfig({ ...env(), PORT: '0', HOST: '127.0.0.1', BOTS_ENABLED: 'false' });
  hale = await startHale(config, createLogger('silent'));
}, 300_000);

afterAll(async () => {
  await hale?.stop();
  await db?.drop();
});

async function get<T = Bundle>(path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${hale.fhirBaseUrl}/${path}`, {
    headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Every page of a search, as the caller. */
async function searchAll<T extends Resource>(path: string, token: string): Promise<T[]> {
  const out: T[] = [];
  let url: string | undefined = `${hale.fhirBaseUrl}/${path}`;
  while (url) {
    const res = await fetch(url, { headers: { accept: 'application/fhir+json', authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as Bundle<T>;
    out.push(...(page.entry ?? []).flatMap((e) => (e.search?.mode === 'outcome' || !e.resource ? [] : [e.resource])));
    url = page.link?.find((l) => l.relation === 'next')?.url;
  }
  return out;
}

const count = async (path: string, token?: string): Promise<number> => {
  const res = await get(`${path}${path.includes('?') ? '&' : '?'}_summary=count`, token);
  expect(res.status).toBe(200);
  return res.body.total ?? -1;
};

describe('the demo patient', () => {
  let token: string;
  beforeAll(async () => {
    token = (await signInToPortal(hale, DEMO_PATIENT.email, DEMO_PASSWORD)).access_token;
  });

  it('signs in and finds a year of their Observations, each held to its Hale profile', async () => {
    const year = `Observation?patient=Patient/${report.patientId}&date=ge2025-07-01&date=le2026-06-30T23:59:59Z&_count=1000`;
    const observations = await searchAll<Observation>(year, token);
    expect(observations).toHaveLength(report.counts.Observation as number);
    expect(observations.length).toBeGreaterThan(5000);
    expect(observations.filter((o) => !o.meta?.profile?.some((p) => HALE_PROFILE.test(p)))).toEqual([]);
    const profiles = new Set(observations.flatMap((o) => o.meta?.profile ?? []));
    for (const key of ['blood-pressure', 'heart-rate', 'body-weight', 'blood-glucose', 'sleep-duration', 'steps']) {
      expect(profiles).toContain(`https://hale.health/fhir/StructureDefinition/hale-${key}`);
    }
    for (const key of ['food-log', 'activity-log', 'symptom-log', 'insight', 'lab-result']) {
      expect(profiles).toContain(`https://hale.health/fhir/StructureDefinition/hale-${key}`);
    }
  });

  it('has goals, a care plan and lab reports in their profiles', async () => {
    for (const [type, n, profile] of [
      ['Goal', 4, 'hale-goal'],
      ['CarePlan', 1, 'hale-care-plan'],
      ['DiagnosticReport', 4, 'hale-lab-report'],
    ] as const) {
      const found = await searchAll(`${type}?patient=Patient/${report.patientId}`, token);
      expect(found).toHaveLength(n);
      expect(
        found.every((r) => r.meta?.profile?.includes(`https://hale.health/fhir/StructureDefinition/${profile}`))
      ).toBe(true);
    }
  });

  it("wrote exactly the generator's output (deterministic from the seed and the date)", () => {
    const again = demoRecord({ patientId: report.patientId, seed: 7, referenceDate: REFERENCE_DATE });
    expect(again.counts).toEqual(report.counts);
    expect(JSON.stringify(again.bundles)).toEqual(
      JSON.stringify(demoRecord({ patientId: report.patientId, seed: 7, referenceDate: REFERENCE_DATE }).bundles)
    );
    expect(
      JSON.stringify(demoRecord({ patientId: report.patientId, seed: 8, referenceDate: REFERENCE_DATE }).bundles)
    ).not.toEqual(JSON.stringify(again.bundles));
  });
});

describe('the demo provider', () => {
  let token: string;
  let patientToken: string;
  beforeAll(async () => {
    token = (await signInToPortal(hale, DEMO_PROVIDER.email, DEMO_PASSWORD)).access_token;
    patientToken = (await signInToPortal(hale, DEMO_PATIENT.email, DEMO_PASSWORD)).access_token;
  });

  it('signs in and reads the shared vitals, activity, sleep, meals and care plans', async () => {
    const patient = `patient=Patient/${report.patientId}`;
    expect(await count(`Observation?${patient}&category=vital-signs`, token)).toBe(
      await count(`Observation?${patient}&category=vital-signs`, patientToken)
    );
    expect(await count(`Observation?${patient}&category=vital-signs`, token)).toBeGreaterThan(2000);
    expect(await count(`Observation?${patient}&category=activity`, token)).toBeGreaterThan(500);
    expect(await count(`Observation?${patient}&code=http://loinc.org|9052-2`, token)).toBeGreaterThan(1000);
    expect(await count(`CarePlan?${patient}`, token)).toBe(1);
    expect(await count(`Goal?${patient}`, token)).toBe(4);
  });

  it('does not see the labs or the medical history that were not shared', async () => {
    const patient = `patient=Patient/${report.patientId}`;
    expect(await count(`Observation?${patient}&category=laboratory`, patientToken)).toBeGreaterThan(300);
    expect(await count(`Observation?${patient}&category=laboratory`, token)).toBe(0);
    expect(await count(`DiagnosticReport?${patient}`, token)).toBe(0);
    expect(await count(`Condition?${patient}`, token)).toBe(0);
    expect(await count(`MedicationStatement?${patient}`, patientToken)).toBe(1);
    expect(await count(`MedicationStatement?${patient}`, token)).toBe(0);
    const labs = await get<Bundle<Observation>>(`Observation?${patient}&category=laboratory&_count=1`, patientToken);
    const lab = labs.body.entry?.[0]?.resource;
    expect(lab?.id).toBeDefined();
    expect((await get(`Observation/${lab?.id}`, token)).status).toBe(404);
  });

  it('sees the demo patient among their patients', async () => {
    const res = await get<{ parameter?: { part?: { name: string; valueReference?: { reference?: string } }[] }[] }>(
      'Practitioner/$my-patients',
      token
    );
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain(`Patient/${report.patientId}`);
  });
});

describe('visits and messages', () => {
  it('the patient has two upcoming appointments with the provider, one confirmed, and a message thread', async () => {
    const token = (await signInToPortal(hale, DEMO_PATIENT.email, DEMO_PASSWORD)).access_token;
    const appointments = await searchAll<Appointment>(`Appointment?patient=Patient/${report.patientId}`, token);
    expect(appointments.map((a) => a.status).sort()).toEqual(['booked', 'pending']);
    expect(appointments.every((a) => Date.parse(a.start ?? '') > Date.now())).toBe(true);
    const threads = await get<Parameters>('Communication/$threads', token);
    expect(threads.status).toBe(200);
    expect(threads.body.parameter?.filter((p) => p.name === 'thread')).toHaveLength(1);
  });

  it("the provider's agenda lists both", async () => {
    const token = (await signInToPortal(hale, DEMO_PROVIDER.email, DEMO_PASSWORD)).access_token;
    const start = new Date().toISOString();
    const end = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const agenda = await get(`Appointment/$agenda?start=${start}&end=${end}`, token);
    expect(agenda.status).toBe(200);
    expect(agenda.body.entry?.filter((e) => e.resource?.resourceType === 'Appointment')).toHaveLength(2);
  });
});

describe('the marketplace', () => {
  it('lists 20 providers, each in the listing profile', async () => {
    const roles = (await get<Bundle<PractitionerRole>>('PractitionerRole?active=true&_count=100')).body.entry ?? [];
    const listed = roles.filter((e) => e.resource?.meta?.profile?.includes(LISTING_PROFILES.provider));
    expect(listed).toHaveLength(20);
  });

  it('finds listings by specialty, language and accepting new patients, without a token', async () => {
    const family = `${DEMO_SPECIALTIES.family.system}|${DEMO_SPECIALTIES.family.code}`;
    const res = await get<Bundle<PractitionerRole>>(
      `PractitionerRole?specialty=${encodeURIComponent(family)}&language=${encodeURIComponent('urn:ietf:bcp:47|mi')}` +
        '&accepting-new-patients=true'
    );
    expect(res.status).toBe(200);
    const practitioners = (res.body.entry ?? []).map((e) => e.resource?.practitioner?.reference);
    expect(practitioners).toContain(`Practitioner/${report.providerPractitionerId}`);
    expect(await count('PractitionerRole?accepting-new-patients=true')).toBeLessThan(20);
    expect(await count('PractitionerRole?accepting-new-patients=true')).toBeGreaterThan(10);
    expect(await count('PractitionerRole?near=-41.29|174.78|5|km')).toBeGreaterThanOrEqual(4);
  });
});

describe('loading the demo', () => {
  it('refuses a second run and writes nothing', async () => {
    const before = await count(
      'Observation',
      (await signInToPortal(hale, DEMO_PATIENT.email, DEMO_PASSWORD)).access_token
    );
    await hale.stop();
    try {
      await expect(
        loadDemo({ seed: 7, referenceDate: REFERENCE_DATE, env: env(), log: () => undefined })
      ).rejects.toThrow(/already loaded/);
    } finally {
      hale = await startHale(
        loadConfig({ ...env(), PORT: '0', HOST: '127.0.0.1', BOTS_ENABLED: 'false' }),
        createLogger('silent')
      );
    }
    const token = (await signInToPortal(hale, DEMO_PATIENT.email, DEMO_PASSWORD)).access_token;
    expect(await count('Observation', token)).toBe(before);
  });

  it('is refused in production, before opening the database', async () => {
    await expect(
      loadDemo({ seed: 7, referenceDate: REFERENCE_DATE, env: env({ NODE_ENV: 'production' }), log: () => undefined })
    ).rejects.toThrow(DemoRefused);
  });

  it('`npm run seed -- --demo` exits non-zero with NODE_ENV=production and says why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'seed/src/cli.ts', '--demo'], {
      cwd: join(__dirname, '../../..'),
      env: { ...process.env, ...env({ NODE_ENV: 'production' }) },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(status).toBe(1);
    expect(stderr).toMatch(/refused in production/);
    expect(stdout).not.toContain(DEMO_PASSWORD);
    expect(stdout + stderr).not.toContain(DEMO_ADMIN.email);
  });
});
