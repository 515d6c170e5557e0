import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { MalformedFile } from './readings';

export interface CsvRow {
  /** 1-based line the row starts on. */
  line: number;
  /** The row by column name, names as in the header (trimmed). */
  cells: Readonly<Record<string, string>>;
}

/**
 * The rows of a CSV export, streamed (csv-parse), with the header's column names. A file that is not CSV, or
 * whose header has none of `expected` columns' names, stops the import (MalformedFile); a short or long row is
 * read as far as it goes (the importer rejects what lacks a value).
 */
export async function* csvRows(
  input: AsyncIterable<Buffer | string>,
  recognise: (header: readonly string[]) => boolean,
  what: string
): AsyncGenerator<CsvRow> {
  const parser = Readable.from(input).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true, trim: true, info: true })
  );
  let header: string[] | undefined;
  try {
    for await (const raw of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = raw;
      if (!header) {
        header = record.map((h) => h.trim());
        if (!recognise(header)) {
          throw new MalformedFile(`not ${what}: the header is '${header.join(',').slice(0, 200)}'`, info.lines);
        }
        continue;
      }
      const cells: Record<string, string> = Object.create(null) as Record<string, string>;
      header.forEach((name, i) => {
        cells[name] = record[i] ?? '';
      });
      yield { line: info.lines, cells };
    }
  } catch (err) {
    if (err instanceof MalformedFile) {
      throw err;
    }
    if (err instanceof CsvError) {
      throw new MalformedFile(`not a readable CSV file: ${err.message}`, (err as { lines?: number }).lines);
    }
    throw err;
  }
  if (!header) {
    throw new MalformedFile(`not ${what}: the file is empty`);
  }
}

/** The first of these columns the row has a value in ('--' is Garmin's empty cell). */
export function cell(row: CsvRow, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = row.cells[name];
    if (v !== undefined && v !== '' && v !== '--') {
      return v;
    }
  }
  return undefined;
}
