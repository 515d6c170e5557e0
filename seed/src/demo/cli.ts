import { parseArgs } from 'node:util';
import { formatDate, parseDate } from '../time';
import type { DemoReport } from './load';
import { DemoRefused, loadDemo } from './load';
import { DEMO_ADMIN, DEMO_PASSWORD, DEMO_PATIENT, DEMO_PROVIDER } from './people';

export const DEMO_USAGE = `Usage: npm run seed -- --demo [--seed <n>] [--reference-date <YYYY-MM-DD>]
  Loads the demo (people, a year of one person's data, 20 marketplace providers) into the database Hale uses:
  DATABASE_URL, or the embedded one (stop Hale first: it belongs to one process at a time).
  --seed <n>           integer seed (default 1): the same seed and date give the same data
  --reference-date <d> the last day of the year of data (default today, UTC)
  Refused with NODE_ENV=production, and when the demo is already loaded.`;

export interface DemoCliOptions {
  seed: number;
  referenceDate: string;
}

/** Parses the demo's arguments (with --demo); undefined when --help was asked for. */
export function parseDemoCli(argv: readonly string[], today = Date.now()): DemoCliOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      demo: { type: 'boolean' },
      seed: { type: 'string' },
      'reference-date': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    return undefined;
  }
  const seed = Number(values.seed ?? '1');
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`--seed must be an integer, got '${values.seed}'`);
  }
  const referenceDate = values['reference-date'] ?? formatDate(today);
  parseDate(referenceDate);
  return { seed, referenceDate };
}

/** What the person who ran the seed needs next: where to sign in, as whom. Printed once, to stdout only. */
export function signInText(report: DemoReport): string {
  const counts = Object.entries(report.counts)
    .map(([type, n]) => `${n} ${type}`)
    .join(', ');
  return [
    `Demo loaded in ${report.seconds.toFixed(1)} s: ${report.resources} resources (patient record ${report.period.start} to ${report.period.end}: ${counts}; ${report.visits.appointments} upcoming appointments, ${report.visits.messages} messages).`,
    '',
    `Start Hale with \`npm start\` and open ${report.serverUrl}/ to sign in (password for all: ${DEMO_PASSWORD}):`,
    `  patient   ${DEMO_PATIENT.email}   (Patient/${report.patientId})`,
    `  provider  ${DEMO_PROVIDER.email}  (Practitioner/${report.providerPractitionerId}; sees vitals and care plans for 90 days, not labs)`,
    `  admin     ${DEMO_ADMIN.email}     (one provider application waiting)`,
  ].join('\n');
}

export async function demoMain(argv: readonly string[]): Promise<number> {
  let options: DemoCliOptions | undefined;
  try {
    options = parseDemoCli(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  try {
    const report = await loadDemo(options);
    process.stdout.write(`${signInText(report)}\n`);
    return 0;
  } catch (error) {
    // A refusal is the whole message; anything else keeps its stack for whoever debugs it.
    const text =
      error instanceof DemoRefused
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`${text}\n`);
    return 1;
  }
}
