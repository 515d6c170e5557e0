import { HALE_OBSERVATION_CODE } from '../wellness/measurements';
import type { ImportEvent, Reading, SourceDevice } from './readings';
import { MalformedFile, dateTimeOf, numberOf, plusSeconds, reading, reject, skip } from './readings';

/**
 * Fitbit's data export (Google Takeout → Fitbit → "Global Export Data"): one JSON array per file and metric,
 * named for it — heart_rate-2024-01-15.json (a day of readings every few seconds), resting_heart_rate-…,
 * steps-… (a minute each), weight-…, sleep-…. The metric is the file name's prefix (the CLI passes it; an app
 * passes `metric`), or, for the metrics whose records differ in shape, read from the first record. A file is one
 * day or one month, so it is parsed whole (within the import's size limit); times without an offset are UTC.
 */

export const FITBIT_METRICS = ['heart_rate', 'resting_heart_rate', 'steps', 'weight', 'sleep'] as const;
export type FitbitMetric = (typeof FITBIT_METRICS)[number];

export interface FitbitOptions {
  metric?: string;
  /** weight-….json is in the account's unit: kg unless told lb. */
  weightUnit?: 'kg' | 'lb';
}

const FITBIT: SourceDevice = { manufacturer: 'Fitbit', name: 'Fitbit' };
const MAX_BYTES = 256 * 1024 * 1024;

type Rec = Record<string, unknown>;

/** The metric a Takeout file name starts with (heart_rate-2024-01-15.json → heart_rate). */
export function fitbitMetricOfFileName(name: string): FitbitMetric | undefined {
  const base = name.split(/[\\/]/).pop() ?? '';
  return FITBIT_METRICS.find((m) => new RegExp(`^${m}-\\d{4}-\\d{2}(-\\d{2})?\\.json$`).test(base));
}

/** `01/15/24 08:30:05` (Fitbit's dateTime) or an ISO form. */
function fitbitDateTime(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const m = /^(\d{2})\/(\d{2})\/(\d{2})(?: (\d{2}:\d{2}:\d{2}))?$/.exec(value.trim());
  if (!m) {
    return dateTimeOf(value);
  }
  const date = `20${m[3]}-${m[1]}-${m[2]}`;
  return m[4] ? dateTimeOf(`${date} ${m[4]}`) : dateTimeOf(date);
}

function guessMetric(first: Rec | undefined): FitbitMetric | undefined {
  const value = first?.value as Rec | undefined;
  if (typeof value === 'object' && value !== null && 'bpm' in value) {
    return 'heart_rate';
  }
  if (typeof value === 'object' && value !== null && 'date' in value) {
    return 'resting_heart_rate';
  }
  if (first && 'weight' in first) {
    return 'weight';
  }
  return first && 'dateOfSleep' in first ? 'sleep' : undefined;
}

function heartRate(r: Rec, line: number): ImportEvent {
  const start = fitbitDateTime(r.dateTime);
  const bpm = (r.value as Rec | undefined)?.bpm;
  if (!start || typeof bpm !== 'number') {
    return reject(line, 'a heart rate record without a dateTime and value.bpm');
  }
  return reading({ key: 'heart-rate', device: FITBIT, start, value: { value: bpm, unit: '{beats}/min' }, line });
}

function restingHeartRate(r: Rec, line: number): ImportEvent {
  const v = r.value as Rec | undefined;
  const start = fitbitDateTime(v?.date ?? r.dateTime);
  const bpm = v?.value;
  if (!start || typeof bpm !== 'number') {
    return reject(line, 'a resting heart rate record without a date and value.value');
  }
  // Fitbit writes 0 for a day it could not estimate.
  return bpm === 0
    ? skip('resting heart rate 0 (a day Fitbit had no estimate for)')
    : reading({ key: 'resting-heart-rate', device: FITBIT, start, value: { value: bpm, unit: '{beats}/min' }, line });
}

function steps(r: Rec, line: number): ImportEvent {
  const start = fitbitDateTime(r.dateTime);
  const count = numberOf(typeof r.value === 'string' ? r.value : String(r.value));
  if (!start || count === undefined) {
    return reject(line, 'a steps record without a dateTime and a numeric value');
  }
  return count === 0
    ? skip('a minute of 0 steps')
    : reading({
        key: 'steps',
        device: FITBIT,
        start,
        end: plusSeconds(start, 60),
        value: { value: count, unit: '{steps}' },
        line,
      });
}

function weight(r: Rec, line: number, unit: 'kg' | 'lb'): ImportEvent {
  const start = fitbitDateTime(typeof r.time === 'string' ? `${String(r.date)} ${r.time}` : r.date);
  if (!start || typeof r.weight !== 'number') {
    return reject(line, 'a weight record without a date and a numeric weight');
  }
  const device =
    typeof r.source === 'string' && r.source !== 'API' ? { ...FITBIT, name: `Fitbit ${r.source}` } : FITBIT;
  const kg = unit === 'kg' ? 'kg' : '[lb_av]';
  const out: Reading = { key: 'body-weight', device, start, value: { value: r.weight, unit: kg }, line };
  return reading(out);
}

function sleep(r: Rec, line: number): ImportEvent {
  const start = dateTimeOf(typeof r.startTime === 'string' ? r.startTime : undefined);
  const end = dateTimeOf(typeof r.endTime === 'string' ? r.endTime : undefined);
  if (!start || !end || typeof r.minutesAsleep !== 'number') {
    return reject(line, 'a sleep record without startTime, endTime and minutesAsleep');
  }
  const summary = ((r.levels as Rec | undefined)?.summary ?? {}) as Record<string, Rec | undefined>;
  const stage = (code: string, name: string): NonNullable<Reading['components']> => {
    const minutes = summary[name]?.minutes;
    return typeof minutes === 'number'
      ? [{ code: { system: HALE_OBSERVATION_CODE, code }, value: minutes, unit: 'min' }]
      : [];
  };
  // "stages" logs have deep/light/rem/wake; older "classic" logs asleep/restless/awake, which are not stages.
  const components = [
    ...stage('sleep-deep', 'deep'),
    ...stage('sleep-light', 'light'),
    ...stage('sleep-rem', 'rem'),
    ...stage('sleep-awake', 'wake'),
  ];
  return reading({
    key: 'sleep-duration',
    device: FITBIT,
    start,
    end,
    value: { value: r.minutesAsleep, unit: 'min' },
    components,
    line,
  });
}

async function jsonArray(input: AsyncIterable<Buffer | string>): Promise<unknown[]> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > MAX_BYTES) {
      throw new MalformedFile(
        `a Fitbit export file is one day or month of one metric; this one exceeds ${MAX_BYTES} bytes`
      );
    }
    chunks.push(b);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new MalformedFile(`not a Fitbit export: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(value)) {
    throw new MalformedFile('not a Fitbit export: a Global Export Data file is a JSON array of records');
  }
  return value;
}

export async function* readFitbit(
  input: AsyncIterable<Buffer | string>,
  options: FitbitOptions
): AsyncGenerator<ImportEvent> {
  const records = await jsonArray(input);
  const first = records.find((r): r is Rec => typeof r === 'object' && r !== null);
  const metric = options.metric ?? guessMetric(first);
  if (metric === undefined && records.length > 0) {
    throw new MalformedFile(
      `the Fitbit metric of this file is not known from its records: pass metric (${FITBIT_METRICS.join(', ')})`
    );
  }
  if (metric !== undefined && !(FITBIT_METRICS as readonly string[]).includes(metric)) {
    throw new MalformedFile(`Fitbit metric '${metric}' is not imported: Hale reads ${FITBIT_METRICS.join(', ')}`);
  }
  for (const [i, r] of records.entries()) {
    // No lines in a JSON array: the record's 1-based position stands for one.
    const line = i + 1;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      yield reject(line, 'not a JSON object');
    } else if (metric === 'heart_rate') {
      yield heartRate(r as Rec, line);
    } else if (metric === 'resting_heart_rate') {
      yield restingHeartRate(r as Rec, line);
    } else if (metric === 'steps') {
      yield steps(r as Rec, line);
    } else if (metric === 'weight') {
      yield weight(r as Rec, line, options.weightUnit ?? 'kg');
    } else {
      yield sleep(r as Rec, line);
    }
  }
}
