/**
 * The Bulk Data phase: `$import` of the bench's patients as NDJSON (bulk-ndjson.ts) against the
 * multi-row INSERT floor, then a system `$export` of everything against a `COPY (SELECT content
 * FROM resource …) TO STDOUT` of the same rows by psql, measured in the same run, with Hale's RSS
 * sampled during the export, and last the consent-filtered export of a cohort (bulk-consent.ts)
 * (issue 15's targets: import ≥ 0.15 of the INSERT floor, export ≥ 0.3 of the COPY floor, RSS ≤
 * +10%, the research partner's export ≤ 1.5× the system token's). Hale must run with
 * BULK_MIN_POLL_MS=0: the exports are polled every 50 ms.
 */
import { spawn } from 'node:child_process';
import { EXPORT_POLL_MS, deleteJob, download, kickExport, kickImport, untilDone, type BulkTarget } from './bulk-client';
import { consentExportLines, consentExportPhase, type ConsentExportResult } from './bulk-consent';
import { datasetNdjson, type NdjsonFile } from './bulk-ndjson';
import type { Dataset } from './dataset';
import { RssSampler, readRssMb } from './memory';

export const BULK_TARGETS = { importOfInsertFloor: 0.15, exportOfCopyFloor: 0.3, exportRssGrowthPct: 10 } as const;

export interface BulkResult {
  readonly importResources: number;
  readonly importSeconds: number;
  readonly importPerSecond: number;
  readonly importOfFloor: number;
  readonly exportResources: number;
  /** Kick-off to manifest, and the downloads after it. */
  readonly exportSeconds: number;
  readonly downloadSeconds: number;
  readonly exportPerSecond: number;
  readonly copyRows: number;
  readonly copySeconds: number;
  readonly copyPerSecond: number;
  readonly exportOfFloor: number;
  readonly rssStartMb: number;
  /** The peak from kick-off to manifest (the target's window), and with the downloads after it. */
  readonly rssPeakMb: number;
  readonly rssGrowthPct: number;
  readonly rssPeakWithDownloadsMb: number;
  /** The export's kick-off to manifest on the monotonic clock (µs), to cut a CPU profile to it. */
  readonly exportWindow: { from: number; to: number };
  readonly consent: ConsentExportResult;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface BulkContext {
  readonly target: BulkTarget;
  readonly halePid: number;
  readonly databaseUrl: string;
  readonly data: Dataset;
  /** The multi-row INSERT floor of this run (floor.ts), rows/s. */
  readonly insertFloor: number;
  /** Imports in flight at once: Hale's BULK_MAX_PER_CLIENT allows 2 by default. */
  readonly concurrency?: number;
  readonly log: (line: string) => void;
}

/** Runs `files` through $import, `concurrency` at a time; every file must import whole. */
async function importFiles(target: BulkTarget, files: readonly NdjsonFile[], concurrency: number): Promise<void> {
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const statusUrl = await kickImport(target, file.text);
      const manifest = await untilDone(target, statusUrl, 100);
      if (manifest.error.length > 0) {
        throw new Error(`$import failed: ${JSON.stringify(manifest.error)}`);
      }
      await deleteJob(target, statusUrl);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The raw floor: psql streams the same rows out with COPY; the bench counts the bytes. */
async function copyFloor(databaseUrl: string): Promise<{ rows: number; seconds: number }> {
  const query = `COPY (SELECT content FROM resource WHERE NOT deleted AND type <> 'AuditEvent') TO STDOUT`;
  const started = performance.now();
  const rows = await new Promise<number>((done, fail) => {
    const psql = spawn('psql', ['-X', '-q', '-d', databaseUrl, '-c', query], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    psql.stdout.on('data', (chunk: Buffer) => {
      for (const b of chunk) {
        if (b === 10) {
          lines++;
        }
      }
    });
    psql.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    psql.once('error', fail);
    psql.once('exit', (code) => (code === 0 ? done(lines) : fail(new Error(`psql exited ${code}: ${stderr}`))));
  });
  return { rows, seconds: (performance.now() - started) / 1000 };
}

export async function bulkPhase(ctx: BulkContext): Promise<BulkResult> {
  const { target, log } = ctx;
  const [directory, ...patients] = datasetNdjson(ctx.data, 20);
  const importResources = [directory, ...patients].reduce((n, f) => n + (f?.resources ?? 0), 0);
  log(`$import of ${importResources} resources in ${patients.length + 1} NDJSON files…`);
  const importStarted = performance.now();
  await importFiles(target, directory ? [directory] : [], 1);
  await importFiles(target, patients, ctx.concurrency ?? 2);
  const importSeconds = (performance.now() - importStarted) / 1000;

  log('COPY floor, then a system $export of everything…');
  const copy = await copyFloor(ctx.databaseUrl);
  // The sampler's progress counter marks the samples taken during the downloads (1) apart from the export's (0).
  let downloading = 0;
  const rss = new RssSampler(ctx.halePid, () => downloading).begin(200);
  const exportStarted = performance.now();
  const from = monotonicUs();
  const statusUrl = await kickExport(target, '$export');
  const manifest = await untilDone(target, statusUrl, EXPORT_POLL_MS, EXPORT_POLL_MS);
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  const exportWindow = { from, to: monotonicUs() };
  const atManifestMb = readRssMb(ctx.halePid);
  downloading = 1;
  const downloaded = await download(target, manifest);
  const downloadSeconds = (performance.now() - exportStarted) / 1000 - exportSeconds;
  const samples = rss.end();
  await deleteJob(target, statusUrl);
  const exportResources = manifest.output.reduce((n, f) => n + (f.count ?? 0), 0);
  if (downloaded.lines !== exportResources) {
    throw new Error(`The export's files hold ${downloaded.lines} lines; the manifest counts ${exportResources}`);
  }
  const consent = await consentExportPhase({ target, databaseUrl: ctx.databaseUrl, log });
  const rssStartMb = samples[0]?.rssMb ?? 0;
  const rssPeakMb = Math.max(atManifestMb, ...samples.filter((s) => s.bundlesDone === 0).map((s) => s.rssMb));
  const rssPeakWithDownloadsMb = Math.max(...samples.map((s) => s.rssMb));
  const importPerSecond = importResources / importSeconds;
  const exportPerSecond = exportResources / exportSeconds;
  const copyPerSecond = copy.rows / copy.seconds;
  return {
    importResources,
    importSeconds,
    importPerSecond,
    importOfFloor: importPerSecond / ctx.insertFloor,
    exportResources,
    exportSeconds,
    downloadSeconds,
    exportPerSecond,
    copyRows: copy.rows,
    copySeconds: copy.seconds,
    copyPerSecond,
    exportOfFloor: exportPerSecond / copyPerSecond,
    rssStartMb,
    rssPeakMb,
    rssGrowthPct: ((rssPeakMb - rssStartMb) / rssStartMb) * 100,
    rssPeakWithDownloadsMb,
    exportWindow,
    consent,
  };
}

export function bulkLines(r: BulkResult): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return [
    `$import: ${r.importResources} resources in ${r.importSeconds.toFixed(1)} s, ${Math.round(r.importPerSecond)}/s = ` +
      `${pct(r.importOfFloor)} of the INSERT floor (target ≥ ${pct(BULK_TARGETS.importOfInsertFloor)})`,
    `$export (system): ${r.exportResources} resources, kick-off to manifest ${r.exportSeconds.toFixed(1)} s ` +
      `(${Math.round(r.exportPerSecond)}/s), downloads ${r.downloadSeconds.toFixed(1)} s; COPY floor ${r.copyRows} rows in ` +
      `${r.copySeconds.toFixed(1)} s (${Math.round(r.copyPerSecond)}/s): ${pct(r.exportOfFloor)} of it ` +
      `(target ≥ ${pct(BULK_TARGETS.exportOfCopyFloor)})`,
    `$export RSS: ${r.rssStartMb.toFixed(0)} → peak ${r.rssPeakMb.toFixed(0)} MB (+${r.rssGrowthPct.toFixed(1)}%, ` +
      `target ≤ +${BULK_TARGETS.exportRssGrowthPct}%); with the downloads after it peak ${r.rssPeakWithDownloadsMb.toFixed(0)} MB`,
    ...consentExportLines(r.consent),
  ];
}
