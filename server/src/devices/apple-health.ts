import { StringDecoder } from 'node:string_decoder';
import type { SaxesTagPlain } from 'saxes';
import { SaxesParser } from 'saxes';
import { LOINC } from '../wellness/measurements';
import type { ImportEvent, Reading, SourceDevice } from './readings';
import { MalformedFile, dateTimeOf, numberOf, reading, reject, skip } from './readings';

/**
 * Apple Health's `export.xml` (Health app → Export All Health Data; the zip holds apple_health_export/export.xml),
 * read as a stream with saxes: an export is often over 1 GB, so nothing but the record being read is held.
 *
 * `<Record type="HKQuantityTypeIdentifier…" sourceName device unit startDate endDate value>` becomes a reading of
 * the measurement its type maps to; `<Correlation type="HKCorrelationTypeIdentifierBloodPressure">` with its
 * systolic and diastolic Records becomes one blood pressure (the export repeats those two Records at the top
 * level, where they are skipped). Everything else (workouts, activity summaries, sleep stage intervals, types Hale
 * has no measurement for) is skipped and counted by type.
 */

interface AppleType {
  key: string;
  /** Apple's unit string → UCUM code; a unit not listed is rejected. */
  units: Readonly<Record<string, string>>;
  method?: string;
  /** A value of the day (startDate to endDate is the day): stored as that date. */
  daily?: boolean;
}

const PER_MINUTE = { 'count/min': '{beats}/min' };
const LENGTHS = { cm: 'cm', m: 'm', mm: 'mm', in: '[in_i]', ft: '[ft_i]' };

const TYPES: Readonly<Record<string, AppleType>> = {
  HKQuantityTypeIdentifierHeartRate: { key: 'heart-rate', units: PER_MINUTE },
  HKQuantityTypeIdentifierRestingHeartRate: { key: 'resting-heart-rate', units: PER_MINUTE, daily: true },
  HKQuantityTypeIdentifierRespiratoryRate: { key: 'respiratory-rate', units: { 'count/min': '{breaths}/min' } },
  // Apple writes saturation as a fraction (0.97) with unit "%": UCUM 1, which the write path turns into 97 %.
  HKQuantityTypeIdentifierOxygenSaturation: { key: 'oxygen-saturation', units: { '%': '1' } },
  HKQuantityTypeIdentifierBodyTemperature: { key: 'body-temperature', units: { degC: 'Cel', degF: '[degF]' } },
  HKQuantityTypeIdentifierBodyMass: {
    key: 'body-weight',
    units: { kg: 'kg', g: 'g', lb: '[lb_av]', st: '[stone_av]' },
  },
  HKQuantityTypeIdentifierHeight: { key: 'body-height', units: LENGTHS },
  HKQuantityTypeIdentifierWaistCircumference: { key: 'waist-circumference', units: LENGTHS },
  HKQuantityTypeIdentifierBodyMassIndex: { key: 'bmi', units: { count: 'kg/m2' } },
  HKQuantityTypeIdentifierHeartRateVariabilitySDNN: {
    key: 'hrv-sdnn',
    units: { ms: 'ms' },
    method: 'Apple Health heart rate variability (SDNN)',
  },
  HKQuantityTypeIdentifierBloodGlucose: {
    key: 'blood-glucose',
    units: { 'mg/dL': 'mg/dL', 'mmol<180.15588000005408>/L': 'mmol/L', 'mmol/L': 'mmol/L' },
  },
  HKQuantityTypeIdentifierStepCount: { key: 'steps', units: { count: '{steps}' } },
  HKQuantityTypeIdentifierActiveEnergyBurned: { key: 'active-energy', units: { kcal: 'kcal', Cal: '[Cal]', kJ: 'kJ' } },
};

const SYSTOLIC = 'HKQuantityTypeIdentifierBloodPressureSystolic';
const DIASTOLIC = 'HKQuantityTypeIdentifierBloodPressureDiastolic';
const BLOOD_PRESSURE = 'HKCorrelationTypeIdentifierBloodPressure';
const MM_HG = { mmHg: 'mm[Hg]', kPa: 'kPa' };

type Attributes = Record<string, string>;

/** `<<HKDevice: 0x…>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,1, software:9.1>` */
export function deviceOf(attrs: Attributes): SourceDevice {
  const fields: Record<string, string> = {};
  for (const m of (attrs.device ?? '').matchAll(/(\w+):([^,>]*(?:,\d[^,>]*)?)/g)) {
    if (m[1] && m[2]) {
      fields[m[1]] = m[2].trim();
    }
  }
  return {
    name: attrs.sourceName?.trim() || fields.name || 'Apple Health',
    manufacturer: fields.manufacturer,
    model: fields.hardware ?? fields.model,
    version: fields.software ?? attrs.sourceVersion,
  };
}

function period(attrs: Attributes, line: number): { start: string; end?: string } | ImportEvent {
  const start = dateTimeOf(attrs.startDate);
  const end = dateTimeOf(attrs.endDate);
  if (!start) {
    return reject(line, `startDate '${attrs.startDate ?? ''}' is not a date and time`);
  }
  return end && end !== start ? { start, end } : { start };
}

function quantityRecord(attrs: Attributes, type: AppleType, line: number): ImportEvent {
  const when = period(attrs, line);
  if ('kind' in when) {
    return when;
  }
  const unit = type.units[attrs.unit ?? ''];
  const value = numberOf(attrs.value);
  if (!unit) {
    return reject(
      line,
      `${attrs.type} in unit '${attrs.unit ?? ''}': Hale reads ${Object.keys(type.units).join(', ')}`
    );
  }
  if (value === undefined) {
    return reject(line, `${attrs.type} value '${attrs.value ?? ''}' is not a number`);
  }
  const at = type.daily ? { start: when.start.slice(0, 10) } : when;
  const r: Reading = { key: type.key, device: deviceOf(attrs), ...at, value: { value, unit }, line };
  return reading(type.method ? { ...r, method: type.method } : r);
}

/** A blood-pressure Correlation from its two component Records. */
function bloodPressure(attrs: Attributes, parts: readonly Attributes[], line: number): ImportEvent {
  const when = period(attrs, line);
  if ('kind' in when) {
    return when;
  }
  const component = (type: string, code: string): Reading['components'] => {
    const part = parts.find((p) => p.type === type);
    const unit = MM_HG[(part?.unit ?? '') as keyof typeof MM_HG];
    const value = numberOf(part?.value);
    return part && unit && value !== undefined ? [{ code: { system: LOINC, code }, value, unit }] : [];
  };
  const components = [...(component(SYSTOLIC, '8480-6') ?? []), ...(component(DIASTOLIC, '8462-4') ?? [])];
  if (components.length !== 2) {
    return reject(line, 'a blood pressure correlation without a systolic and a diastolic value in mmHg or kPa');
  }
  return reading({ key: 'blood-pressure', device: deviceOf(attrs), ...when, components, line });
}

/** Turns saxes' push events into a queue the generator drains after each chunk. */
class AppleHealthParser {
  readonly events: ImportEvent[] = [];
  private readonly sax = new SaxesParser({ xmlns: false, position: true });
  private correlation: { attrs: Attributes; line: number; parts: Attributes[] } | undefined;
  private depth = 0;
  private sawRoot = false;

  constructor() {
    this.sax.on('opentag', (tag) => this.open(tag));
    this.sax.on('closetag', (tag) => this.close(tag));
    this.sax.on('error', (err) => {
      throw new MalformedFile(`export.xml is not well-formed XML: ${err.message}`, this.sax.line);
    });
  }

  write(text: string): void {
    this.sax.write(text);
  }

  end(): void {
    this.sax.close();
    if (!this.sawRoot) {
      throw new MalformedFile('not an Apple Health export: no <HealthData> element', this.sax.line);
    }
  }

  private open(tag: SaxesTagPlain): void {
    this.depth++;
    const attrs = tag.attributes;
    if (this.depth === 1) {
      if (tag.name !== 'HealthData') {
        throw new MalformedFile(`not an Apple Health export: the root element is <${tag.name}>`, this.sax.line);
      }
      this.sawRoot = true;
      return;
    }
    if (tag.name === 'Correlation' && this.depth === 2) {
      this.correlation = { attrs, line: this.sax.line, parts: [] };
    } else if (tag.name === 'Record' && this.correlation && this.depth === 3) {
      this.correlation.parts.push(attrs);
    } else if (tag.name === 'Record' && this.depth === 2) {
      this.events.push(this.record(attrs));
    } else if (this.depth === 2) {
      this.events.push(skip(`<${tag.name}> (not a measurement)`));
    }
  }

  private close(tag: SaxesTagPlain): void {
    this.depth--;
    if (tag.name === 'Correlation' && this.depth === 1 && this.correlation) {
      const { attrs, parts, line } = this.correlation;
      this.correlation = undefined;
      this.events.push(
        attrs.type === BLOOD_PRESSURE
          ? bloodPressure(attrs, parts, line)
          : skip(`${attrs.type ?? 'Correlation'} (no Hale measurement)`)
      );
    }
  }

  private record(attrs: Attributes): ImportEvent {
    const type = TYPES[attrs.type ?? ''];
    if (type) {
      return quantityRecord(attrs, type, this.sax.line);
    }
    if (attrs.type === SYSTOLIC || attrs.type === DIASTOLIC) {
      return skip(`${attrs.type} (read from its blood pressure correlation)`);
    }
    return skip(`${attrs.type ?? 'Record'} (no Hale measurement)`);
  }
}

export async function* readAppleHealth(input: AsyncIterable<Buffer | string>): AsyncGenerator<ImportEvent> {
  const parser = new AppleHealthParser();
  const decoder = new StringDecoder('utf8');
  for await (const chunk of input) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    yield* parser.events.splice(0);
  }
  parser.write(decoder.end());
  parser.end();
  yield* parser.events.splice(0);
}
