/** Writes the results into docs/benchmarks.md, between markers, leaving the rest of the page alone. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './server-process';

export const DOCS_PATH = join(REPO_ROOT, 'docs', 'benchmarks.md');
const START = '<!-- bench:results:start (written by `npm run bench`; edits here are overwritten) -->';
const END = '<!-- bench:results:end -->';

export function writeResults(markdown: string): void {
  const section = `${START}\n\n${markdown}\n\n${END}`;
  const page = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, 'utf8') : '';
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${page.slice(0, start)}${section}${page.slice(end + END.length)}`
      : `${page || '# Benchmarks\n'}\n## Results\n\n${section}\n`;
  writeFileSync(DOCS_PATH, next);
}
