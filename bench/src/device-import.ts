/**
 * The device-import phase (issue 16): a year of a wearable's minute-level heart rate as an Apple Health
 * export.xml, POSTed once to Patient/{id}/$import-device (streamed), against the raw floor measured in the same
 * run: the Observations the import stores (the same JSON shape and size), one row each, into
 * `(id text primary key, type text, content jsonb)` with multi-row INSERTs of 500 over one pg connection.
 * Target: import readings/s ≥ 0.15 × floor rows/s.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';

export const DEVICE_IMPORT_TARGET = 0.15;

export interface DeviceImportResult {
  readonly readings: number;
  readonly fileMb: number;
  readonly floorRowsPerSecond: number;
  readonly importSeconds: number;
  readonly readingsPerSecond: number;
  readonly ratio: number;
  readonly created: number;
  readonly load: readonly [number, number];
}

const START = Date.UTC(2025, 0, 1);
const DEVICE =
  '&lt;&lt;HKDevice: 0x283ac8f00&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:10.2&gt;';

function appleDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' +0000');
}

/** Minute i of the year as an export.xml Record line (the shape Apple writes, with a metadata entry). */
function record(i: number): string {
  const at = appleDate(START + i * 60_000);
  const bpm = 55 + ((i * 7919) % 60);
  return (
    ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Bench Watch" sourceVersion="10.2" device="${DEVICE}" ` +
    `unit="count/min" creationDate="${at}" startDate="${at}" endDate="${at}" value="${bpm}">\n` +
    `  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n </Record>\n`
  );
}

async function writeExport(path: string, readings: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string): Promise<void> =>
    new Promise((done) => (out.write(text) ? done() : out.once('drain', () => done())));
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n');
  await write(' <ExportDate value="2026-01-01 00:00:00 +0000"/>\n');
  for (let i = 0; i < readings; i++) {
    await write(record(i));
  }
  await write('</HealthData>\n');
  await new Promise<void>((done) => out.end(() => done()));
}

/** The Observation the import stores for minute i (what the floor inserts). */
function observation(i: number, patientId: string): Record<string, unknown> {
  const at = new Date(START + i * 60_000).toISOString().replace('.000Z', 'Z');
  return {
    resourceType: 'Observation',
    id: `floor-${i}`,
    meta: {
      versionId: '1',
      lastUpdated: at,
      profile: ['https://hale.health/fhir/StructureDefinition/hale-heart-rate'],
    },
    identifier: [
      { system: 'https://hale.health/fhir/device-import/reading', value: `h${i.toString(36).padStart(31, '0')}` },
    ],
    status: 'final',
    category: [
      { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
    ],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: at,
    valueQuantity: {
      value: 55 + ((i * 7919) % 60),
      unit: '/min',
      system: 'http://unitsofmeasure.org',
      code: '/min',
      extension: [
        {
          url: 'https://hale.health/fhir/StructureDefinition/original-quantity',
          valueQuantity: { value: 70, unit: '{beats}/min', system: 'http://unitsofmeasure.org', code: '{beats}/min' },
        },
      ],
    },
    device: { reference: 'Device/0193f0a2-bench-device' },
  };
}

async function floor(databaseUrl: string, readings: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hale-bench-floor' });
  await client.connect();
  try {
    await client.query('CREATE TABLE floor_resource (id text PRIMARY KEY, type text, content jsonb)');
    const started = performance.now();
    for (let from = 0; from < readings; from += 500) {
      const rows = Array.from({ length: Math.min(500, readings - from) }, (_, k) => observation(from + k, 'bench'));
      await client.query(
        `INSERT INTO floor_resource (id, type, content)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
        [rows.map((r) => r.id), rows.map(() => 'Observation'), rows.map((r) => JSON.stringify(r))]
      );
    }
    return readings / ((performance.now() - started) / 1000);
  } finally {
    await client.end();
  }
}

interface Target {
  fhirBase: string;
  token: string;
}

async function post<T>(
  target: Target,
  path: string,
  body: unknown,
  type: string
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${target.fhirBase}/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': type },
    body: body instanceof ReadableStream ? body : JSON.stringify(body),
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function deviceImportPhase(input: {
  target: Target;
  floorDatabaseUrl: string;
  readings: number;
  log: (line: string) => void;
}): Promise<DeviceImportResult> {
  const { target, readings, log } = input;
  const dir = await mkdtemp(join(tmpdir(), 'hale-bench-device-'));
  try {
    const file = join(dir, 'export.xml');
    await writeExport(file, readings);
    const fileMb = (await stat(file)).size / 1024 ** 2;
    log(`Device import: ${readings} minute-level heart rates, export.xml ${fileMb.toFixed(0)} MB; floor first…`);
    const floorRowsPerSecond = await floor(input.floorDatabaseUrl, readings);
    log(`  floor ${Math.round(floorRowsPerSecond)} rows/s`);
    const patient = await post<{ id: string }>(target, 'Patient', { resourceType: 'Patient' }, 'application/fhir+json');
    const loadBefore = (await import('node:os')).loadavg()[0] ?? Number.NaN;
    const started = performance.now();
    const body = Readable.toWeb(createReadStream(file));
    const res = await post<{ parameter?: { name: string; valueInteger?: number }[] }>(
      target,
      `Patient/${patient.body.id}/$import-device?kind=apple-health`,
      body,
      'application/xml'
    );
    const importSeconds = (performance.now() - started) / 1000;
    const loadAfter = (await import('node:os')).loadavg()[0] ?? Number.NaN;
    if (res.status !== 200) {
      throw new Error(`$import-device answered ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    const created = res.body.parameter?.find((p) => p.name === 'created')?.valueInteger ?? 0;
    const readingsPerSecond = readings / importSeconds;
    return {
      readings,
      fileMb,
      floorRowsPerSecond,
      importSeconds,
      readingsPerSecond,
      ratio: readingsPerSecond / floorRowsPerSecond,
      created,
      load: [loadBefore, loadAfter],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function deviceImportLines(r: DeviceImportResult): string[] {
  const pass = r.ratio >= DEVICE_IMPORT_TARGET ? 'met' : 'missed';
  return [
    `$import-device of ${r.readings} minute-level heart rates (Apple Health export.xml, ${r.fileMb.toFixed(0)} MB, one request): ` +
      `${r.importSeconds.toFixed(1)} s, ${Math.round(r.readingsPerSecond)} readings/s, ${r.created} created`,
    `raw floor ${Math.round(r.floorRowsPerSecond)} rows/s: ratio ${(r.ratio * 100).toFixed(2)}% ` +
      `(target ≥ ${DEVICE_IMPORT_TARGET * 100}%: ${pass}); load ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)}`,
  ];
}
