import { isAbsolute, resolve } from 'node:path';
import pino from 'pino';
import {
  applyAsDemoProvider,
  createDemoAdmin,
  findAccountByEmail,
  signUpDemoPatient,
} from '../../../server/src/auth/accounts';
import type { Account } from '../../../server/src/auth/types';
import type { HaleConfig } from '../../../server/src/config';
import { loadConfig } from '../../../server/src/config';
import { sql } from '../../../server/src/db/sql';
import { createLogger } from '../../../server/src/logger';
import type { RunningHale } from '../../../server/src/server';
import { startHale } from '../../../server/src/server';
import { Rng } from '../prng';
import { demoRecord, transaction } from './dataset';
import { DemoApi } from './api';
import { directoryOf } from './directory';
import { DEMO_ADMIN, DEMO_APPLICANT, DEMO_PATIENT, DEMO_PROVIDER } from './people';
import { RecordWriter } from './records';
import type { DemoVisits } from './visits';
import { visitsAndMessages } from './visits';

/**
 * `npm run seed -- --demo`: loads the demo into the database Hale would use (DATABASE_URL, else the embedded
 * data directory `npm start` uses) by starting Hale on it in-process and writing everything as its users would:
 * accounts through sign-up and the provider application, the patient's year through the FHIR API with the
 * patient's own token (so Hale's required profiles, validation, indexing and audit apply to every resource), the
 * directory with a system token (an import), the sharing with `$share`. Refused in production; refused, without
 * writing anything, when the demo accounts exist already (loading twice would double the year of data).
 */

export class DemoRefused extends Error {}

export interface DemoOptions {
  seed: number;
  /** YYYY-MM-DD: the last day of the year of data. */
  referenceDate: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface DemoReport {
  seconds: number;
  resources: number;
  counts: Record<string, number>;
  period: { start: string; end: string };
  patientId: string;
  providerPractitionerId: string;
  consentId: string;
  visits: DemoVisits;
  serverUrl: string;
}

/** Where `npm start` runs (npm runs a workspace's scripts in its folder): a relative EMBEDDED_DATA_DIR is from there. */
const SERVER_DIR = resolve(__dirname, '../../../server');

export function demoConfig(env: NodeJS.ProcessEnv): HaleConfig {
  if (env.NODE_ENV === 'production') {
    throw new DemoRefused('The demo data is refused in production (NODE_ENV=production): it has public passwords.');
  }
  const dataDir = env.EMBEDDED_DATA_DIR ?? '.hale-data/pg';
  const asServer = { ...env, EMBEDDED_DATA_DIR: isAbsolute(dataDir) ? dataDir : resolve(SERVER_DIR, dataDir) };
  // The seed's own Hale listens on a free loopback port only while it loads, and runs no bots; the address it
  // reports is the one `npm start` will listen on.
  const config = loadConfig({
    ...asServer,
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    BOTS_ENABLED: 'false',
  });
  // Demo addresses are example.org: nothing is mailed, even where SMTP is configured.
  return { ...config, smtpUrl: undefined, serverUrl: loadConfig(asServer).serverUrl };
}

export async function loadDemo(options: DemoOptions): Promise<DemoReport> {
  const config = demoConfig(options.env ?? process.env);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = performance.now();
  const hale = await startHale(config, createLogger(config.logLevel, pino.destination(2)));
  try {
    if (await findAccountByEmail(hale.authDeps, DEMO_PATIENT.email)) {
      throw new DemoRefused(
        `The demo is already loaded in this database (${DEMO_PATIENT.email} exists); nothing was written. ` +
          (config.databaseUrl
            ? 'To load it again, use an empty database.'
            : `To load it again, stop Hale and delete ${config.embeddedDataDir}.`)
      );
    }
    const report = await load(hale, options, log);
    return { ...report, seconds: (performance.now() - started) / 1000, serverUrl: config.serverUrl };
  } finally {
    await hale.stop();
  }
}

async function load(
  hale: RunningHale,
  options: DemoOptions,
  log: (line: string) => void
): Promise<Omit<DemoReport, 'seconds' | 'serverUrl'>> {
  const api = new DemoApi(hale);
  const deps = hale.authDeps;
  const system = await api.systemToken();
  const directory = directoryOf(new RecordWriter('directory', new Rng(options.seed, 808)), options.seed);
  const created = await api.transaction(system, transaction(directory.entries));
  log(`directory: ${directory.providers} practitioners, ${directory.entries.length} resources`);

  const admin = await createDemoAdmin(deps, DEMO_ADMIN.email, DEMO_ADMIN.password);
  const provider = await applyAsDemoProvider(deps, DEMO_PROVIDER, admin.id);
  await applyAsDemoProvider(deps, DEMO_APPLICANT, undefined);
  const practitionerId = profileId(provider, 'Practitioner');
  await api.listDemoProvider(system, practitionerId, {
    organization: created.get(directory.demoClinic.organization.fullUrl) as string,
    location: created.get(directory.demoClinic.location.fullUrl) as string,
  });
  log(`accounts: demo patient, provider (approved and listed), admin, one application waiting`);

  const patient = await signUpDemoPatient(deps, DEMO_PATIENT);
  const patientId = profileId(patient, 'Patient');
  const patientToken = await api.userToken(patient);
  const record = demoRecord({ patientId, seed: options.seed, referenceDate: options.referenceDate });
  let written = 0;
  for (const bundle of record.bundles) {
    written += (await api.transaction(patientToken, bundle)).size;
    log(`patient record: ${written} resources`);
  }
  const consentId = await api.share(patientToken, patientId, practitionerId);
  const visits = await visitsAndMessages(
    api,
    { provider: await api.userToken(provider), patient: patientToken },
    { practitionerId, patientId }
  );
  log(`visits: ${visits.appointments} appointments booked, ${visits.messages} messages`);
  // The statistics job may not finish a round before this Hale stops, and PGlite has no autovacuum: without this
  // the first searches of a fresh database are planned for empty tables (seconds, not milliseconds, in the test).
  await hale.db.query(sql`ANALYZE`);
  const resources = written + directory.entries.length;
  return {
    resources,
    counts: record.counts,
    visits,
    period: record.period,
    patientId,
    providerPractitionerId: practitionerId,
    consentId,
  };
}

function profileId(account: Account, type: 'Patient' | 'Practitioner'): string {
  if (account.profile?.type !== type) {
    throw new Error(`The account ${account.email} has no ${type}`);
  }
  return account.profile.id;
}
