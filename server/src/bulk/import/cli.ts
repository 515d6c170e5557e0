import { readFile } from 'node:fs/promises';
import { operatorPath, withSystemRepository } from '../../bots/cli';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { LineError, importNdjson } from './ndjson-import';

export const IMPORT_USAGE = `  import <file.ndjson>… [--type <Type>]    import NDJSON files through the $import code (system access; each file
                                           atomic: a bad line fails that file, naming the line); progress on
                                           stderr, a JSON summary on stdout; exit 1 when a file failed
`;

/** Progress is printed every this many resources. */
const EVERY = 1000;

interface FileSummary {
  file: string;
  counts?: Record<string, number>;
  error?: OperationOutcome;
}

export async function runImportCommand(argv: string[]): Promise<number | undefined> {
  if (argv[0] !== 'import') {
    return undefined;
  }
  const typeAt = argv.indexOf('--type');
  const type = typeAt >= 0 ? argv[typeAt + 1] : undefined;
  const files = argv.slice(1).filter((_a, i) => i + 1 !== typeAt && i + 1 !== typeAt + 1);
  if (files.length === 0 || (typeAt >= 0 && !type)) {
    process.stderr.write(`Usage:\n${IMPORT_USAGE}`);
    return 2;
  }
  const started = Date.now();
  const summaries = await withSystemRepository(async (repo) => {
    const out: FileSummary[] = [];
    for (const file of files) {
      const text = await readFile(operatorPath(file), 'utf8');
      let shown = 0;
      try {
        const counts = await importNdjson(repo, text, type, {
          progress: (n) => {
            if (n - shown >= EVERY) {
              shown = n;
              process.stderr.write(`${file}: ${n} resources\n`);
            }
          },
        });
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        process.stderr.write(`${file}: done, ${total} resources\n`);
        out.push({ file, counts });
      } catch (err) {
        if (!(err instanceof LineError)) {
          throw err;
        }
        process.stderr.write(`${file}: failed, nothing imported: ${err.message}\n`);
        out.push({ file, error: err.outcome });
      }
    }
    return out;
  });
  const resources = summaries.reduce((n, f) => n + Object.values(f.counts ?? {}).reduce((a, b) => a + b, 0), 0);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({ files: summaries, resources, seconds, perSecond: Math.round(resources / seconds) }) + '\n'
  );
  return summaries.some((f) => f.error) ? 1 : 0;
}
