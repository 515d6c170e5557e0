/**
 * The start-up phase: how long `node server/src/main.ts` takes to print its ready line on PostgreSQL, the CPU it
 * used by then, its resident memory once idle, and what the first `$graphql` request (which builds the GraphQL
 * schema, deferred from start-up) costs. One start on a fresh database (it runs every migration), then `starts`
 * restarts on the migrated one, the usual case for a deploy or a crash; the targets apply to the restarts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readRssMb } from './memory';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import { startHale } from './server-process';

export const STARTUP_TARGETS = { readyMs: 3_000, idleRssMb: 250 } as const;

export interface StartMeasurement {
  readonly migrated: boolean;
  readonly readyMs: number;
  readonly readyCpuMs: number;
  readonly idleRssMb: number;
}

export interface StartupResult {
  readonly starts: readonly StartMeasurement[];
  /** The first `$graphql` request after a restart (it builds the schema), and RSS once it answered. */
  readonly firstGraphqlMs: number;
  readonly graphqlRssMb: number;
  readonly graphqlStatus: number;
}

export interface StartupOptions {
  readonly pgUrl: string;
  readonly starts: number;
  /** How long Hale sits idle before its RSS is read (its background jobs have run their first round by then). */
  readonly idleMs: number;
  readonly log: (line: string) => void;
}

async function graphql(fhirBase: string, token: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const res = await fetch(`${fhirBase}/$graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ PatientList(_count: 1) { id } }' }),
  });
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status };
}

export async function startupPhase(options: StartupOptions): Promise<StartupResult> {
  const name = `hale_bench_startup_${process.pid}`;
  await createDatabase(options.pgUrl, name);
  const url = databaseUrl(options.pgUrl, name);
  const starts: StartMeasurement[] = [];
  try {
    for (let i = 0; i <= options.starts; i++) {
      const hale = await startHale(url);
      try {
        await sleep(options.idleMs);
        starts.push({
          migrated: i > 0,
          readyMs: hale.readyMs,
          readyCpuMs: hale.readyCpuMs,
          idleRssMb: readRssMb(hale.pid),
        });
        options.log(
          `  start ${i + 1}${i === 0 ? ' (fresh database)' : ''}: ready in ${Math.round(hale.readyMs)} ms, ` +
            `${Math.round(hale.readyCpuMs)} ms CPU, idle RSS ${Math.round(readRssMb(hale.pid))} MB`
        );
        if (i === options.starts) {
          const first = await graphql(hale.fhirBase, hale.token);
          const graphqlRssMb = readRssMb(hale.pid);
          options.log(
            `  first $graphql: ${first.status} in ${Math.round(first.ms)} ms, then RSS ${Math.round(graphqlRssMb)} MB`
          );
          return { starts, firstGraphqlMs: first.ms, graphqlRssMb, graphqlStatus: first.status };
        }
      } finally {
        await hale.stop();
      }
    }
    throw new Error('unreachable: the last start returns');
  } finally {
    await dropDatabase(options.pgUrl, name);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Restarts that missed a target, as notes for the report's error count. */
export function startupErrors(r: StartupResult): string[] {
  return r.graphqlStatus === 200 ? [] : [`the first $graphql request answered ${r.graphqlStatus}`];
}

export function startupSection(r: StartupResult): string {
  const restarts = r.starts.filter((s) => s.migrated);
  const fresh = r.starts.find((s) => !s.migrated);
  const ready = median(restarts.map((s) => s.readyMs));
  const rss = Math.max(...restarts.map((s) => s.idleRssMb));
  const verdict = (ok: boolean): string => (ok ? 'pass' : 'MISS');
  return [
    `Start-up (bench/src/startup.ts; \`npm run bench -- --startup-only\` runs it alone): ${restarts.length} restarts on a migrated database` +
      (fresh ? `, after one on a fresh database (every migration: ready in ${Math.round(fresh.readyMs)} ms)` : '') +
      '. Ready is spawn to the ready line; idle RSS is read after the server sat idle.',
    '',
    '| metric | value | target | result |',
    '| --- | ---: | ---: | --- |',
    `| ready, median of restarts | ${Math.round(ready)} ms (${Math.round(median(restarts.map((s) => s.readyCpuMs)))} ms CPU) | ≤ ${STARTUP_TARGETS.readyMs} ms | ${verdict(ready <= STARTUP_TARGETS.readyMs)} |`,
    `| idle RSS, largest of restarts | ${Math.round(rss)} MB | ≤ ${STARTUP_TARGETS.idleRssMb} MB | ${verdict(rss <= STARTUP_TARGETS.idleRssMb)} |`,
    `| first \`$graphql\` (builds the schema) | ${Math.round(r.firstGraphqlMs)} ms, status ${r.graphqlStatus}; RSS after ${Math.round(r.graphqlRssMb)} MB | | |`,
  ].join('\n');
}
