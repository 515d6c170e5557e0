import type { OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';

/** Rejections listed one by one in the answer; the rest are counted. */
export const LISTED_REJECTIONS = 100;

/** What an import did, as it goes: only what has committed is counted as created or existing. */
export class ImportSummary {
  readonly created = new Map<string, number>();
  readonly existing = new Map<string, number>();
  readonly skipped = new Map<string, number>();
  readonly rejections: { line: number; reason: string }[] = [];
  rejected = 0;
  /** Device/id → whether this import created it. */
  readonly devices = new Map<string, boolean>();

  count(into: Map<string, number>, key: string, n = 1): void {
    into.set(key, (into.get(key) ?? 0) + n);
  }

  reject(line: number, reason: string): void {
    this.rejected++;
    if (this.rejections.length < LISTED_REJECTIONS) {
      this.rejections.push({ line, reason });
    }
  }

  total(of: Map<string, number>): number {
    let n = 0;
    of.forEach((v) => (n += v));
    return n;
  }

  toJSON(): Record<string, unknown> {
    return {
      created: Object.fromEntries(this.created),
      existing: Object.fromEntries(this.existing),
      skipped: Object.fromEntries(this.skipped),
      rejected: this.rejected,
      rejections: this.rejections,
      devices: [...this.devices].map(([reference, created]) => ({ reference, created })),
    };
  }
}

const integer = (name: string, value: number): ParametersParameter => ({ name, valueInteger: value });

function perMeasurement(summary: ImportSummary): ParametersParameter[] {
  const keys = [...new Set([...summary.created.keys(), ...summary.existing.keys()])].sort();
  return keys.map((key) => ({
    name: 'measurement',
    part: [
      { name: 'code', valueCode: key },
      integer('created', summary.created.get(key) ?? 0),
      integer('existing', summary.existing.get(key) ?? 0),
    ],
  }));
}

/** The $import-device answer (docs/device-imports.md#the-answer). */
export function summaryParameters(summary: ImportSummary): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: [
      integer('created', summary.total(summary.created)),
      integer('existing', summary.total(summary.existing)),
      integer('skipped', summary.total(summary.skipped)),
      integer('rejected', summary.rejected),
      ...perMeasurement(summary),
      ...[...summary.devices].map(([reference, created]) => ({
        name: 'device',
        part: [
          { name: 'device', valueReference: { reference } },
          { name: 'created', valueBoolean: created },
        ],
      })),
      ...[...summary.skipped].map(([reason, count]) => ({
        name: 'skip',
        part: [{ name: 'reason', valueString: reason }, integer('count', count)],
      })),
      ...summary.rejections.map((r) => ({
        name: 'rejection',
        part: [integer('line', r.line), { name: 'reason', valueString: r.reason }],
      })),
    ],
  };
}

/**
 * A file that failed part-way: the error, and what of it is stored (the batches committed before it). Importing
 * the corrected file again skips those (they are found by their identifiers), so nothing is stored twice.
 */
export function failedImportOutcome(
  message: string,
  line: number | undefined,
  summary: ImportSummary
): OperationOutcome {
  const created = summary.total(summary.created);
  const existing = summary.total(summary.existing);
  const where = line === undefined ? '' : `line ${line}: `;
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'structure',
        details: { text: `${where}${message}` },
        ...(line === undefined ? {} : { location: [`line ${line}`] }),
      },
      {
        severity: 'information',
        code: 'informational',
        details: {
          text:
            created + existing === 0
              ? 'Nothing of this file was stored.'
              : `Stored before the error: ${created} new Observations, ${existing} already stored, ` +
                `devices ${[...summary.devices.keys()].join(', ')}. Importing the file again skips them.`,
        },
      },
    ],
  };
}
