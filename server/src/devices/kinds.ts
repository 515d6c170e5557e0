import { readAppleHealth } from './apple-health';
import { readGarmin, readOura, readWithings } from './csv-exports';
import type { FitbitOptions } from './fitbit';
import { readFitbit } from './fitbit';
import type { ImportEvent } from './readings';

/** The export files Hale imports, by the `kind` a caller names (docs/device-imports.md). */
export const DEVICE_KINDS = ['apple-health', 'fitbit', 'garmin', 'oura', 'withings'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export type KindOptions = FitbitOptions;

interface Kind {
  /** Content-Types $import-device accepts for this kind (application/octet-stream: any file as it is). */
  contentTypes: readonly string[];
  read(input: AsyncIterable<Buffer | string>, options: KindOptions): AsyncIterable<ImportEvent>;
}

const CSV = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream'];

export const KINDS: Readonly<Record<DeviceKind, Kind>> = {
  'apple-health': { contentTypes: ['application/xml', 'text/xml', 'application/octet-stream'], read: readAppleHealth },
  fitbit: { contentTypes: ['application/json', 'application/octet-stream'], read: readFitbit },
  garmin: { contentTypes: CSV, read: readGarmin },
  oura: { contentTypes: CSV, read: readOura },
  withings: { contentTypes: CSV, read: readWithings },
};

export function isDeviceKind(value: unknown): value is DeviceKind {
  return typeof value === 'string' && (DEVICE_KINDS as readonly string[]).includes(value);
}
