/**
 * Sets up the Consent workload in a running Hale: light patients up to the issue's patient count,
 * the providers (Practitioner, account row, user token minted with the CLI as an operator would)
 * and the sharing Consents, then ANALYZE.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { lightPatientBundles, practitionerBundles, sharingBundles, sharingPlan, type Share } from './consent-data';
import { fhirRequest } from './http';
import { analyzeDatabase } from './postgres';
import { REPO_ROOT } from './server-process';

const TOKEN_CONCURRENCY = 2;

export interface ConsentOptions {
  /** Patients in all (the ingested ones plus light ones), at least the ingested count. */
  readonly patients: number;
  readonly providers: number;
  readonly perPatient: number;
  /** Providers that sign in (account and token) and are measured; the rest only hold Consents. */
  readonly signedIn: number;
  readonly pairsPerProvider: number;
}

export interface ConsentWorkload {
  readonly patients: number;
  readonly lightPatients: number;
  readonly providers: number;
  readonly signedIn: number;
  readonly consents: number;
  readonly viaCareTeam: number;
  readonly withDataPeriod: number;
  readonly loadMs: number;
  readonly tokensMs: number;
}

export interface LoadContext {
  readonly fhirBase: string;
  readonly databaseUrl: string;
  readonly seed: number;
  /** Server ids of the ingested (full-record) patients. */
  readonly patientIds: readonly string[];
  /** Those whose records every measured search matches. */
  readonly measurable: ReadonlySet<string>;
  readonly options: ConsentOptions;
  readonly log: (line: string) => void;
}

/** POSTs transaction bundles with the system token; returns the created `Type/id` of every entry, in order. */
async function postAll(fhirBase: string, bundles: readonly string[]): Promise<string[]> {
  const created: string[] = [];
  for (const json of bundles) {
    const { body } = await fhirRequest<Bundle>('POST', fhirBase, json);
    for (const e of body.entry ?? []) {
      const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/.exec(e.response?.location ?? '');
      if (!e.response?.status.startsWith('201') || !m?.[1]) {
        throw new Error(`A Consent-workload transaction answered ${e.response?.status} at ${e.response?.location}`);
      }
      created.push(m[1]);
    }
  }
  return created;
}

/** Verified, active provider accounts whose profile is the Practitioner, as the accounts flow leaves them. */
export async function insertAccounts(databaseUrl: string, practitionerIds: readonly string[]): Promise<string[]> {
  const emails = practitionerIds.map((_, i) => `bench-provider-${i}@example.org`);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench' });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO account (id, email, email_verified, status, roles, profile_type, profile_id)
       SELECT id, email, true, 'active', '{provider}', 'Practitioner', profile_id
       FROM unnest($1::uuid[], $2::text[], $3::text[]) AS a (id, email, profile_id)`,
      [practitionerIds.map(() => randomUUID()), emails, practitionerIds]
    );
  } finally {
    await client.end();
  }
  return emails;
}

/** `npm run hale -- token --user <email> --scope "user/*.rs"`, as server-process.ts mints the system token. */
export function mintUserToken(databaseUrl: string, fhirBase: string, email: string): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/src/cli.ts', 'token', '--user', email, '--scope', 'user/*.rs'],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        BASE_URL: fhirBase.replace(/\/fhir\/R4$/, ''),
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => {
      if (code !== 0) {
        fail(new Error(`could not mint a token for ${email}: ${stderr}`));
      } else {
        done((JSON.parse(stdout) as { access_token: string }).access_token);
      }
    });
  });
}

async function mintUserTokens(ctx: LoadContext, emails: readonly string[]): Promise<string[]> {
  const tokens: string[] = new Array<string>(emails.length);
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < emails.length) {
      const i = nextIndex++;
      tokens[i] = await mintUserToken(ctx.databaseUrl, ctx.fhirBase, emails[i] as string);
    }
  };
  await Promise.all(Array.from({ length: TOKEN_CONCURRENCY }, worker));
  return tokens;
}

export interface LoadedWorkload {
  readonly workload: ConsentWorkload;
  readonly shares: Share[];
  readonly tokens: string[];
}

export async function loadConsentWorkload(ctx: LoadContext): Promise<LoadedWorkload> {
  const o = ctx.options;
  const start = performance.now();
  const lightCount = Math.max(0, o.patients - ctx.patientIds.length);
  ctx.log(`  ${lightCount} light patients, ${o.providers} Practitioners…`);
  const light = (await postAll(ctx.fhirBase, lightPatientBundles(lightCount, ctx.seed + 10)))
    .filter((ref) => ref.startsWith('Patient/'))
    .map((ref) => ref.slice('Patient/'.length));
  const practitioners = (await postAll(ctx.fhirBase, practitionerBundles(o.providers))).map((ref) =>
    ref.slice('Practitioner/'.length)
  );
  const shares = sharingPlan({
    patientIds: [...ctx.patientIds, ...light],
    fullRecords: ctx.patientIds.length,
    measurable: ctx.measurable,
    providers: o.providers,
    perPatient: o.perPatient,
    signedIn: o.signedIn,
    pairsPerProvider: o.pairsPerProvider,
    seed: ctx.seed + 11,
  });
  ctx.log(`  ${shares.length} Consents…`);
  await postAll(ctx.fhirBase, sharingBundles(shares, practitioners));
  const loadMs = performance.now() - start;
  ctx.log(`  accounts and ${o.signedIn} provider tokens (CLI)…`);
  const tokensStart = performance.now();
  const emails = await insertAccounts(ctx.databaseUrl, practitioners);
  const tokens = await mintUserTokens(ctx, emails.slice(0, o.signedIn));
  const tokensMs = performance.now() - tokensStart;
  await analyzeDatabase(ctx.databaseUrl);
  return {
    workload: {
      patients: ctx.patientIds.length + light.length,
      lightPatients: light.length,
      providers: practitioners.length,
      signedIn: tokens.length,
      consents: shares.length,
      viaCareTeam: shares.filter((s) => s.relationship).length,
      withDataPeriod: shares.filter((s) => s.dataPeriod).length,
      loadMs,
      tokensMs,
    },
    shares,
    tokens,
  };
}
