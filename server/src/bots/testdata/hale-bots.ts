/** Helpers of bots-integration.test.ts: Hale's bots installed into a test server, observed over its API. */
import type { Communication, GuidanceResponse, Observation, Parameters, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../../../bots/src/lib/vocabulary';
import { systemAccess } from '../../storage/access';
import { HaleRepository } from '../../storage/repository';
import { SearchParamRegistry } from '../../storage/search-params';
import { eventually } from '../../test/bots';
import type { TestServer } from '../../test/test-server';
import type { InstallReport } from '../install';
import { DEFAULT_MANIFEST, installBots, readManifest } from '../install';

export const PORTAL = 'https://portal.example.org';
export const LOINC = 'http://loinc.org';
export const DAY = 24 * 60 * 60 * 1000;
export const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
export const FHIR_JSON = { 'content-type': 'application/fhir+json' };

/** Installs the manifest's bots into this server, as `hale bot install` does, on its own database. */
export async function install(
  s: TestServer,
  secrets: Record<string, string> = { PORTAL_URL: PORTAL }
): Promise<InstallReport> {
  const searchParams = await SearchParamRegistry.load(s.hale.db);
  const repo = new HaleRepository({
    db: s.hale.db,
    access: systemAccess,
    searchParams,
    baseUrl: s.base,
    validate: true,
  });
  return installBots({ repo, db: s.hale.db }, readManifest(DEFAULT_MANIFEST), secrets);
}

export async function all<T extends Resource>(s: TestServer, path: string): Promise<T[]> {
  return ((await s.search(path)).entry ?? []).map((e) => e.resource as T);
}

/** Waits until the search finds at least n resources (a delivery is asynchronous). */
export function found<T extends Resource>(s: TestServer, path: string, n = 1): Promise<T[]> {
  return eventually(async () => {
    const got = await all<T>(s, path);
    return got.length >= n ? got : undefined;
  });
}

export interface Job {
  state?: string;
  kind?: string;
  resource?: string;
  error?: string;
}

export async function jobs(s: TestServer, botId: string): Promise<Job[]> {
  const res = await s.get<Parameters>(`Bot/$bot-runs?bot=${botId}&_count=500`);
  return (res.body.parameter ?? []).map((p) => {
    const v = (n: string) => p.part?.find((x) => x.name === n);
    return {
      state: v('state')?.valueCode,
      kind: v('kind')?.valueCode,
      resource: v('resource')?.valueReference?.reference,
      error: v('error')?.valueString,
    };
  });
}

/** Waits for the bot's delivery of this version to finish, and fails with the bot's error if it failed. */
export function delivered(s: TestServer, botId: string, version: string): Promise<Job> {
  return eventually(async () => {
    const job = (await jobs(s, botId)).find((j) => j.resource === version);
    if (job?.error) {
      throw new Error(`Bot/${botId} failed on ${version}: ${job.error}`);
    }
    return job?.state === 'done' ? job : undefined;
  });
}

export const versionOf = (r: Resource): string => `${r.resourceType}/${r.id}/_history/${r.meta?.versionId}`;

export const quantity = (value: number, code: string) => ({
  value,
  unit: code,
  system: 'http://unitsofmeasure.org',
  code,
});

export function reading(patient: string, code: string, when: string, extra: Partial<Observation>): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: when,
    ...extra,
  };
}

export const bp = (patient: string, systolic: number, diastolic: number, when: string): Observation =>
  reading(patient, '85354-9', when, {
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: quantity(systolic, 'mm[Hg]') },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: quantity(diastolic, 'mm[Hg]') },
    ],
  });

export const triggered = (g: GuidanceResponse): boolean | undefined =>
  g.contained
    ?.flatMap((c) => (c.resourceType === 'Parameters' ? (c.parameter ?? []) : []))
    .find((p) => p.name === 'triggered')?.valueBoolean;

export const categoryOf = (c: Communication): string | undefined =>
  c.category?.flatMap((x) => x.coding ?? []).find((x) => x.system === SYSTEM.notificationCategory)?.code;

/** The Communications to the recipient about this resource (R4 has no `about` search parameter). */
export async function noticesAbout(s: TestServer, recipient: string, about: string): Promise<Communication[]> {
  return eventually(async () => {
    const to = await all<Communication>(s, `Communication?recipient=${recipient}`);
    const these = to.filter((c) => c.about?.some((a) => a.reference === about));
    return these.length > 0 ? these : undefined;
  });
}

/** The mail's text without quoted-printable soft line breaks (the catcher decodes only multipart bodies). */
export const plain = (text: string): string =>
  text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

export const reasonOf = (c: Communication): string | undefined => c.statusReason?.coding?.[0]?.code;

/** A notification Communication as any bot or the server queues it (lib/notify.ts). */
export function notification(recipient: string, category: string, text: string): Communication {
  return {
    resourceType: 'Communication',
    status: 'preparation',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'notification' }] },
      { coding: [{ system: SYSTEM.notificationCategory, code: category }] },
    ],
    recipient: [{ reference: recipient }],
    payload: [{ contentString: text }],
  };
}

/** Waits until the resource satisfies `done` (a bot changes it asynchronously), and returns it. */
export function becomes<T extends Resource>(s: TestServer, ref: string, done: (r: T) => boolean): Promise<T> {
  return eventually(async () => {
    const r = (await s.get<T>(ref)).body;
    return done(r) ? r : undefined;
  });
}
