import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Start-up parses ~60 MB of FHIR definitions JSON (the R4 StructureDefinitions, SearchParameters and ValueSets)
 * into objects of which only ~25 MB outlive indexing. V8 keeps the old-space pages it grew to during that peak
 * (a 400 MB RSS at idle, measured) and releases them only under memory pressure. One memory-reducing collection,
 * once start-up work is done, hands them back (idle RSS ~190 MB). The collector is reached the way Jest's leak
 * detector reaches it: exposing `gc` for a moment through a V8 flag, so the process runs without `--expose-gc`.
 */
export function releaseStartupMemory(): void {
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!exposed) {
    setFlagsFromString('--expose-gc');
  }
  const gc = runInNewContext('gc') as GcFunction;
  if (!exposed) {
    setFlagsFromString('--no-expose-gc');
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
