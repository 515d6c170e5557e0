/**
 * The consent-filtered export (issue 15: a research partner's export of a cohort ≤ 1.5× the time
 * of the unfiltered export of the same patients). A Group of `cohort` of the bench's patients;
 * every other one of them opts in to research (a `research` Consent without actors: for every
 * research partner); a research partner's user token and the system token then export the Group
 * in turns. The research export must hold exactly the opted-in members.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EXPORT_POLL_MS, deleteJob, download, kickExport, untilDone, type BulkTarget } from './bulk-client';
import { mintUserToken } from './consent-load';

export const CONSENT_EXPORT_TARGET = 1.5;

export interface ConsentExportResult {
  readonly cohort: number;
  readonly optedIn: number;
  /** Medians over the rounds, kick-off to manifest. */
  readonly systemSeconds: number;
  readonly researchSeconds: number;
  readonly systemResources: number;
  readonly researchResources: number;
  readonly rounds: number;
  /** research / system. */
  readonly ratio: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function withClient<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function post(target: BulkTarget, resource: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${target.fhirBase}/${String(resource.resourceType)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(resource),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) {
    throw new Error(
      `POST ${String(resource.resourceType)} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`
    );
  }
  return body.id;
}

const researchConsent = (patient: string): Record<string, unknown> => ({
  resourceType: 'Consent',
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: `Patient/${patient}` },
  dateTime: '2026-01-01T00:00:00Z',
  policy: [{ uri: 'https://hale.health/fhir/policy/patient-directed-sharing' }],
  provision: {
    type: 'permit',
    period: { start: '2020-01-01' },
    action: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: 'access' }] }],
  },
});

/** A research partner's account (verified, active, role research-partner) and a user/*.rs token minted with the CLI. */
async function researchToken(databaseUrl: string, fhirBase: string): Promise<string> {
  const email = `bench-research-${Date.now()}@example.org`;
  await withClient(databaseUrl, (c) =>
    c.query(
      `INSERT INTO account (id, email, email_verified, status, roles) VALUES ($1, $2, true, 'active', '{research-partner}')`,
      [randomUUID(), email]
    )
  );
  return mintUserToken(databaseUrl, fhirBase, email);
}

async function timedExport(
  target: BulkTarget,
  path: string
): Promise<{ seconds: number; resources: number; patients: number }> {
  const started = performance.now();
  const statusUrl = await kickExport(target, path);
  const manifest = await untilDone(target, statusUrl, EXPORT_POLL_MS, EXPORT_POLL_MS);
  const seconds = (performance.now() - started) / 1000;
  const downloaded = await download(target, manifest);
  await deleteJob(target, statusUrl);
  const patients = manifest.output.filter((f) => f.type === 'Patient').reduce((n, f) => n + (f.count ?? 0), 0);
  return { seconds, resources: downloaded.lines, patients };
}

export async function consentExportPhase(ctx: {
  readonly target: BulkTarget;
  readonly databaseUrl: string;
  readonly cohort?: number;
  readonly rounds?: number;
  readonly log: (line: string) => void;
}): Promise<ConsentExportResult> {
  const cohortSize = ctx.cohort ?? 100;
  const rounds = ctx.rounds ?? 3;
  const members = await withClient(ctx.databaseUrl, async (c) => {
    const { rows } = await c.query<{ id: string }>(
      `SELECT id FROM resource WHERE type = 'Patient' AND NOT deleted ORDER BY id LIMIT $1`,
      [cohortSize]
    );
    return rows.map((r) => r.id);
  });
  const optedIn = members.filter((_, i) => i % 2 === 0);
  ctx.log(`Consent-filtered export: a Group of ${members.length} patients, ${optedIn.length} opted in to research…`);
  for (const patient of optedIn) {
    await post(ctx.target, researchConsent(patient));
  }
  const group = await post(ctx.target, {
    resourceType: 'Group',
    type: 'person',
    actual: true,
    member: members.map((id) => ({ entity: { reference: `Patient/${id}` } })),
  });
  const research: BulkTarget = {
    fhirBase: ctx.target.fhirBase,
    token: await researchToken(ctx.databaseUrl, ctx.target.fhirBase),
  };
  const path = `Group/${group}/$export`;
  const system: Awaited<ReturnType<typeof timedExport>>[] = [];
  const filtered: Awaited<ReturnType<typeof timedExport>>[] = [];
  for (let i = 0; i < rounds; i++) {
    system.push(await timedExport(ctx.target, path));
    filtered.push(await timedExport(research, path));
  }
  const last = filtered[filtered.length - 1];
  if (last?.patients !== optedIn.length) {
    throw new Error(`The research export holds ${last?.patients} Patients; ${optedIn.length} opted in`);
  }
  const systemSeconds = median(system.map((r) => r.seconds));
  const researchSeconds = median(filtered.map((r) => r.seconds));
  return {
    cohort: members.length,
    optedIn: optedIn.length,
    systemSeconds,
    researchSeconds,
    systemResources: system[0]?.resources ?? 0,
    researchResources: last.resources,
    rounds,
    ratio: researchSeconds / systemSeconds,
  };
}

export function consentExportLines(r: ConsentExportResult): string[] {
  return [
    `$export of a Group of ${r.cohort} patients (median of ${r.rounds}, kick-off to manifest): system token ` +
      `${r.systemResources} resources in ${r.systemSeconds.toFixed(2)} s; research partner (${r.optedIn} opted in) ` +
      `${r.researchResources} resources in ${r.researchSeconds.toFixed(2)} s: ${r.ratio.toFixed(2)}× ` +
      `(target ≤ ${CONSENT_EXPORT_TARGET}×)`,
  ];
}
