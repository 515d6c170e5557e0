/**
 * Command line: write synthetic patient bundles to files and/or POST them to a FHIR server.
 *
 *   npm run -w seed seed -- --patients 10 --seed 42 --out ./out
 *   npm run -w seed seed -- --patients 1000 --url http://localhost:8103/fhir/R4 --directory reference
 *   npm run seed -- --demo          (the demo dataset into Hale's own database: demo/cli.ts)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import {
  DEFAULT_REFERENCE_DATE,
  DEFAULT_RESOURCES_PER_PATIENT,
  generateDirectoryBundle,
  generatePatientBundles,
  type DirectoryMode,
} from './bundle';
import { demoMain } from './demo/cli';

export const USAGE = `Usage: seed [options]
  --patients <n>       number of patients (default 10)
  --seed <n>           integer seed (default 1)
  --first-index <n>    index of the first patient (default 0)
  --resources <n>      resources per patient bundle (default ${DEFAULT_RESOURCES_PER_PATIENT})
  --reference-date <d> YYYY-MM-DD the history leads up to (default ${DEFAULT_REFERENCE_DATE})
  --directory <mode>   inline (default): providers are conditional creates in every bundle;
                       reference: bundles use conditional references and the directory is
                       loaded first as one batch (written as directory.json with --out)
  --out <dir>          write one JSON file per bundle into <dir>
  --url <base>         POST each bundle as a transaction to this FHIR base URL
  --header <h: v>      extra request header, repeatable (e.g. "Authorization: Bearer ...")
  --concurrency <n>    bundles in flight at once when posting (default 1)
  --help               show this help
  --demo               load the demo dataset into Hale's database instead (--demo --help)`;

export interface CliOptions {
  readonly patients: number;
  readonly seed: number;
  readonly firstIndex: number;
  readonly resourcesPerPatient: number;
  readonly referenceDate: string;
  readonly directory: DirectoryMode;
  readonly out?: string;
  readonly url?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly concurrency: number;
}

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) {
    return fallback;
  }
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got '${value}'`);
  }
  return parsed;
}

function headers(values: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    if (colon <= 0) {
      throw new Error(`--header must look like "Name: value", got '${value}'`);
    }
    result[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return result;
}

/** Parses argv (without node and script); returns undefined when --help was asked for. */
export function parseCli(argv: readonly string[]): CliOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      patients: { type: 'string' },
      seed: { type: 'string' },
      'first-index': { type: 'string' },
      resources: { type: 'string' },
      'reference-date': { type: 'string' },
      directory: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      header: { type: 'string', multiple: true },
      concurrency: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    return undefined;
  }
  if (values.out === undefined && values.url === undefined) {
    throw new Error('Give --out <dir>, --url <base> or both');
  }
  const directory = values.directory ?? 'inline';
  if (directory !== 'inline' && directory !== 'reference') {
    throw new Error(`--directory must be inline or reference, got '${directory}'`);
  }
  return {
    patients: integer('patients', values.patients, 10, 0),
    seed: integer('seed', values.seed, 1, Number.MIN_SAFE_INTEGER),
    firstIndex: integer('first-index', values['first-index'], 0, 0),
    resourcesPerPatient: integer('resources', values.resources, DEFAULT_RESOURCES_PER_PATIENT, 1),
    referenceDate: values['reference-date'] ?? DEFAULT_REFERENCE_DATE,
    directory,
    out: values.out,
    url: values.url?.replace(/\/+$/, ''),
    headers: headers(values.header ?? []),
    concurrency: integer('concurrency', values.concurrency, 1, 1),
  };
}

function fileName(patientIndex: number): string {
  return `patient-${String(patientIndex).padStart(6, '0')}.json`;
}

function outcomeText(body: unknown): string {
  const outcome = body as OperationOutcome | undefined;
  const texts = outcome?.issue?.map((i) => i.details?.text ?? i.diagnostics ?? i.code) ?? [];
  return texts.length > 0 ? texts.join('; ') : JSON.stringify(body).slice(0, 300);
}

/** POSTs one transaction; resolves to the number of entries the server answered with a 2xx status. */
async function postBundle(options: CliOptions, bundle: Bundle): Promise<number> {
  const response = await fetch(`${options.url}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json', ...options.headers },
    body: JSON.stringify(bundle),
  });
  const text = await response.text();
  const body: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}: ${outcomeText(body)}`);
  }
  const entries = (body as Bundle | undefined)?.entry ?? [];
  return entries.filter((e) => /^2\d\d/.test(e.response?.status ?? '')).length;
}

export interface RunReport {
  readonly bundles: number;
  readonly resources: number;
  readonly failures: number;
  readonly seconds: number;
}

type Log = (line: string) => void;

/** In 'reference' mode the directory must exist before any patient bundle refers to it. */
async function loadDirectory(options: CliOptions, log: Log): Promise<void> {
  const directory = generateDirectoryBundle();
  if (options.out) {
    await writeFile(join(options.out, 'directory.json'), `${JSON.stringify(directory, null, 2)}\n`);
  }
  if (options.url) {
    const created = await postBundle(options, directory);
    if (created !== directory.entry?.length) {
      throw new Error(`The directory batch stored only ${created} of ${directory.entry?.length} entries`);
    }
    log(`directory: ${created} organizations and practitioners present`);
  }
}

export async function run(options: CliOptions, log: Log = console.log): Promise<RunReport> {
  if (options.out) {
    await mkdir(options.out, { recursive: true });
  }
  if (options.directory === 'reference') {
    await loadDirectory(options, log);
  }
  const stream = generatePatientBundles({
    seed: options.seed,
    patients: options.patients,
    firstIndex: options.firstIndex,
    resourcesPerPatient: options.resourcesPerPatient,
    referenceDate: options.referenceDate,
    directory: options.directory,
  });
  const started = performance.now();
  let index = options.firstIndex;
  let bundles = 0;
  let resources = 0;
  let failures = 0;
  const inFlight = new Set<Promise<void>>();
  for (const bundle of stream) {
    const patientIndex = index++;
    const task = (async () => {
      if (options.out) {
        await writeFile(join(options.out, fileName(patientIndex)), `${JSON.stringify(bundle, null, 2)}\n`);
      }
      const created = options.url ? await postBundle(options, bundle) : (bundle.entry?.length ?? 0);
      bundles++;
      resources += created;
    })().catch((error: unknown) => {
      failures++;
      log(`patient ${patientIndex}: ${error instanceof Error ? error.message : String(error)}`);
    });
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    if (inFlight.size >= options.concurrency) {
      await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  const target = [options.out && `wrote ${resolve(options.out)}`, options.url && `posted to ${options.url}`]
    .filter(Boolean)
    .join(', ');
  log(
    `${bundles} bundles, ${resources} resources in ${seconds.toFixed(2)} s ` +
      `(${(resources / seconds).toFixed(0)} resources/s, ${(bundles / seconds).toFixed(1)} bundles/s); ${target}` +
      (failures > 0 ? `; ${failures} failed` : '')
  );
  return { bundles, resources, failures, seconds };
}

async function main(): Promise<void> {
  if (process.argv.includes('--demo')) {
    process.exitCode = await demoMain(process.argv.slice(2));
    return;
  }
  let options: CliOptions | undefined;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (!options) {
    console.log(USAGE);
    return;
  }
  const report = await run(options);
  process.exitCode = report.failures > 0 ? 1 : 0;
}

if (require.main === module) {
  void main();
}
