import { HALE_OBSERVATION_CODE, LOINC } from '../wellness/measurements';
import type { CsvRow } from './csv-rows';
import { cell, csvRows } from './csv-rows';
import type { ImportEvent, Reading, SourceDevice } from './readings';
import { dateTimeOf, numberOf, plusSeconds, reading, reject, skip } from './readings';

/**
 * The CSV exports: Oura's trends file, Withings' weight.csv / bp.csv / sleep.csv, Garmin Connect's Activities.csv.
 * Each row gives readings of fixed columns; a row without a usable time is rejected, an empty cell gives no
 * reading, a cell that is not a number is rejected with its column named.
 */

type Input = AsyncIterable<Buffer | string>;

interface Column {
  key: string;
  names: readonly string[];
  unit: string;
  method?: string;
}

/** The readings of a row's columns at one time; rejections for cells that are not numbers. */
function columnReadings(
  row: CsvRow,
  columns: readonly Column[],
  device: SourceDevice,
  when: { start: string; end?: string }
): ImportEvent[] {
  return columns.flatMap((c): ImportEvent[] => {
    const text = cell(row, ...c.names);
    if (text === undefined) {
      return [];
    }
    const value = numberOf(text);
    if (value === undefined) {
      return [reject(row.line, `column '${c.names[0]}': '${text}' is not a number`)];
    }
    const r: Reading = { key: c.key, device, ...when, value: { value, unit: c.unit }, line: row.line };
    return [reading(c.method ? { ...r, method: c.method } : r)];
  });
}

const stage = (code: string, names: readonly string[], row: CsvRow): NonNullable<Reading['components']> => {
  const value = numberOf(cell(row, ...names));
  return value === undefined ? [] : [{ code: { system: HALE_OBSERVATION_CODE, code }, value, unit: 's' }];
};

const OURA: SourceDevice = { manufacturer: 'Oura', name: 'Oura Ring' };
const OURA_COLUMNS: readonly Column[] = [
  { key: 'resting-heart-rate', names: ['Lowest Resting Heart Rate'], unit: '{beats}/min' },
  { key: 'hrv-rmssd', names: ['Average HRV'], unit: 'ms', method: 'Oura ring, nightly average (RMSSD)' },
  { key: 'respiratory-rate', names: ['Respiratory Rate'], unit: '{breaths}/min' },
  { key: 'steps', names: ['Steps'], unit: '{steps}' },
  { key: 'active-energy', names: ['Active Calories', 'Activity Burn'], unit: 'kcal' },
];

/** Oura's trends CSV (one row a day; durations in seconds; the night from Bedtime Start to Bedtime End). */
export async function* readOura(input: Input): AsyncGenerator<ImportEvent> {
  const isOura = (h: readonly string[]): boolean => h.includes('date') && h.includes('Total Sleep Duration');
  for await (const row of csvRows(input, isOura, 'an Oura trends export')) {
    const day = dateTimeOf(cell(row, 'date'));
    if (!day) {
      yield reject(row.line, `date '${cell(row, 'date') ?? ''}' is not a date`);
      continue;
    }
    yield* columnReadings(row, OURA_COLUMNS, OURA, { start: day });
    const total = numberOf(cell(row, 'Total Sleep Duration'));
    if (total !== undefined) {
      const start = dateTimeOf(cell(row, 'Bedtime Start')) ?? day;
      const end = dateTimeOf(cell(row, 'Bedtime End')) ?? day;
      const components = [
        ...stage('sleep-deep', ['Deep Sleep Duration'], row),
        ...stage('sleep-light', ['Light Sleep Duration'], row),
        ...stage('sleep-rem', ['REM Sleep Duration'], row),
        ...stage('sleep-awake', ['Awake Time'], row),
      ];
      yield reading({
        key: 'sleep-duration',
        device: OURA,
        start,
        end,
        value: { value: total, unit: 's' },
        components,
        line: row.line,
      });
    }
  }
}

const WITHINGS: SourceDevice = { manufacturer: 'Withings', name: 'Withings' };

/** Withings' weight.csv, bp.csv or sleep.csv (from the "Download my data" zip), told apart by their headers. */
export async function* readWithings(input: Input): AsyncGenerator<ImportEvent> {
  const file = (h: readonly string[]): 'weight' | 'bp' | 'sleep' | undefined =>
    h.includes('Systolic')
      ? 'bp'
      : h.includes('light (s)')
        ? 'sleep'
        : h.some((x) => /^Weight \((kg|lb)\)$/.test(x))
          ? 'weight'
          : undefined;
  let kind: ReturnType<typeof file>;
  const recognise = (h: readonly string[]): boolean => (kind = file(h)) !== undefined;
  for await (const row of csvRows(input, recognise, 'a Withings weight.csv, bp.csv or sleep.csv')) {
    const start = dateTimeOf(cell(row, 'Date', 'from'));
    if (!start) {
      yield reject(row.line, `date '${cell(row, 'Date', 'from') ?? ''}' is not a date and time`);
      continue;
    }
    if (kind === 'weight') {
      yield* columnReadings(
        row,
        [
          { key: 'body-weight', names: ['Weight (kg)'], unit: 'kg' },
          { key: 'body-weight', names: ['Weight (lb)'], unit: '[lb_av]' },
        ],
        WITHINGS,
        { start }
      );
    } else if (kind === 'bp') {
      yield* withingsBloodPressure(row, start);
    } else {
      const end = dateTimeOf(cell(row, 'to')) ?? start;
      const components = [
        ...stage('sleep-deep', ['deep (s)'], row),
        ...stage('sleep-light', ['light (s)'], row),
        ...stage('sleep-rem', ['rem (s)'], row),
        ...stage('sleep-awake', ['awake (s)'], row),
      ];
      const asleep = components.filter((c) => c.code.code !== 'sleep-awake').reduce((sum, c) => sum + c.value, 0);
      yield components.length > 0
        ? reading({
            key: 'sleep-duration',
            device: WITHINGS,
            start,
            end,
            value: { value: asleep, unit: 's' },
            components,
            line: row.line,
          })
        : reject(row.line, 'a night without light, deep or rem durations');
    }
  }
}

function* withingsBloodPressure(row: CsvRow, start: string): Generator<ImportEvent> {
  const systolic = numberOf(cell(row, 'Systolic'));
  const diastolic = numberOf(cell(row, 'Diastolic'));
  if (systolic === undefined || diastolic === undefined) {
    yield reject(row.line, 'a blood pressure without a numeric Systolic and Diastolic');
  } else {
    const components = [
      { code: { system: LOINC, code: '8480-6' }, value: systolic, unit: 'mm[Hg]' },
      { code: { system: LOINC, code: '8462-4' }, value: diastolic, unit: 'mm[Hg]' },
    ];
    yield reading({ key: 'blood-pressure', device: WITHINGS, start, components, line: row.line });
  }
  yield* columnReadings(row, [{ key: 'heart-rate', names: ['Heart rate'], unit: '{beats}/min' }], WITHINGS, { start });
}

const GARMIN: SourceDevice = { manufacturer: 'Garmin', name: 'Garmin Connect' };

/** `hh:mm:ss(.s)` or `mm:ss` as seconds. */
function durationSeconds(text: string | undefined): number | undefined {
  const parts = (text ?? '').trim().split(':').map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !Number.isFinite(p))) {
    return undefined;
  }
  return parts.reduce((sum, p) => sum * 60 + p, 0);
}

/**
 * Garmin Connect's Activities.csv (Activities → Export CSV): each activity's calories as active energy over the
 * activity's period (Date plus Time).
 */
export async function* readGarmin(input: Input): AsyncGenerator<ImportEvent> {
  const isGarmin = (h: readonly string[]): boolean => h.includes('Activity Type') && h.includes('Date');
  for await (const row of csvRows(input, isGarmin, 'a Garmin Connect Activities.csv')) {
    const start = dateTimeOf(cell(row, 'Date'));
    const seconds = durationSeconds(cell(row, 'Time', 'Elapsed Time'));
    if (!start || seconds === undefined) {
      yield reject(row.line, `an activity without a Date and a Time (duration): '${cell(row, 'Date') ?? ''}'`);
      continue;
    }
    const when = { start, end: plusSeconds(start, seconds) };
    // Avg HR is left out: the heart-rate profile is a reading at an instant, not a mean over an activity.
    const columns: Column[] = [{ key: 'active-energy', names: ['Calories'], unit: 'kcal' }];
    const events = columnReadings(row, columns, GARMIN, when);
    yield* events.length > 0 ? events : [skip(`a ${cell(row, 'Activity Type') ?? ''} activity without calories`)];
  }
}
