import { FhirRouter } from '@medplum/fhir-router';
import { createReadStream } from 'node:fs';
import { operatorPath, withSystemRepository } from '../bots/cli';
import { fitbitMetricOfFileName } from './fitbit';
import { importDeviceFile } from './import';
import { DEVICE_KINDS, isDeviceKind } from './kinds';
import { MalformedFile } from './readings';
import { ImportSummary, failedImportOutcome } from './summary';

export const DEVICE_IMPORT_USAGE = `  import-device <kind> <file> --patient <id>
               [--metric <m>] [--weight-unit kg|lb]
                                           import a device or app export file (${DEVICE_KINDS.join(', ')}) into the
                                           patient's record, as $import-device does (system access; Fitbit's metric
                                           from the file name); progress on stderr, a JSON summary on stdout
`;

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** `npm run hale -- import-device <kind> <file> --patient <id>` (docs/device-imports.md). */
export async function runDeviceImportCommand(argv: string[]): Promise<number | undefined> {
  if (argv[0] !== 'import-device') {
    return undefined;
  }
  const [, kind, file] = argv;
  const patientId = option(argv, 'patient');
  const weightUnit = option(argv, 'weight-unit');
  if (!isDeviceKind(kind) || !file || !patientId || (weightUnit !== undefined && !['kg', 'lb'].includes(weightUnit))) {
    process.stderr.write(`Usage:\n${DEVICE_IMPORT_USAGE}`);
    return 2;
  }
  const path = operatorPath(file);
  const started = Date.now();
  return withSystemRepository(async (repo, _db, config) => {
    await repo.readResource('Patient', patientId); // an unknown patient fails before the file is read
    const summary = new ImportSummary();
    try {
      await importDeviceFile(
        {
          repo,
          deviceRepo: repo,
          router: new FhirRouter(),
          patientId,
          kind,
          input: createReadStream(path),
          options: {
            metric: option(argv, 'metric') ?? fitbitMetricOfFileName(path),
            weightUnit: weightUnit as 'kg' | 'lb' | undefined,
          },
          maxEntries: config.bundleMaxEntries,
          progress: (s) =>
            process.stderr.write(`${file}: ${s.total(s.created)} created, ${s.total(s.existing)} existing\n`),
        },
        summary
      );
    } catch (err) {
      if (!(err instanceof MalformedFile)) {
        throw err;
      }
      process.stdout.write(JSON.stringify(failedImportOutcome(err.message, err.line, summary)) + '\n');
      return 1;
    }
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(JSON.stringify({ file, ...summary.toJSON(), seconds }) + '\n');
    return 0;
  });
}
