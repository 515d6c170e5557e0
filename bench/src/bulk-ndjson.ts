/**
 * The bench's patient bundles as Bulk Data NDJSON, for `$import`: every resource under its own id
 * (the uuid of its fullUrl), `urn:uuid:` references rewritten to `Type/id`, and the directory's
 * conditional creates (the same provider in many bundles) written once, under an id made from
 * their NPI. The directory comes first; each later file holds whole patients, so every reference
 * points into the same file or an earlier one.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Dataset } from './dataset';

export interface NdjsonFile {
  readonly text: string;
  readonly resources: number;
}

const URN = /"urn:uuid:([0-9a-f-]{36})"/g;
// In the dataset's 'reference' directory mode, providers are referred to by a conditional reference.
const CONDITIONAL = /"((?:Practitioner|Organization)\?identifier=[^"]+)"/g;

/** `Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|123` → `npi-123`. */
function directoryId(ifNoneExist: string): string {
  const value = ifNoneExist.split('|').pop() ?? ifNoneExist;
  return `npi-${value.replace(/[^A-Za-z0-9.-]/g, '-')}`;
}

function rewrite(resource: Resource, id: string, targets: ReadonlyMap<string, string>): string {
  const text = JSON.stringify({ ...resource, id });
  return text
    .replace(URN, (whole, uuid: string) => {
      const target = targets.get(uuid);
      return target ? `"${target}"` : whole;
    })
    .replace(CONDITIONAL, (_whole, query: string) => `"${query.split('?')[0]}/${directoryId(query)}"`);
}

function entryId(entry: BundleEntry, uuid: string): string {
  return entry.request?.ifNoneExist ? directoryId(entry.request.ifNoneExist) : uuid;
}

/** NDJSON files of `patientsPerFile` patients each, after one file of the directory members they use. */
export function datasetNdjson(data: Dataset, patientsPerFile: number): NdjsonFile[] {
  const directory = new Map<string, string>();
  const listed = data.directoryJson ? ((JSON.parse(data.directoryJson) as Bundle).entry ?? []) : [];
  for (const e of listed) {
    if (e.resource && e.request?.ifNoneExist) {
      const id = directoryId(e.request.ifNoneExist);
      directory.set(id, rewrite(e.resource, id, new Map()));
    }
  }
  const files: NdjsonFile[] = [];
  for (let first = 0; first < data.patients.length; first += patientsPerFile) {
    const lines: string[] = [];
    for (const patient of data.patients.slice(first, first + patientsPerFile)) {
      const bundle = JSON.parse(patient.json) as Bundle;
      const entries = (bundle.entry ?? []).filter((e): e is BundleEntry & { resource: Resource } => !!e.resource);
      const targets = new Map<string, string>();
      for (const e of entries) {
        const uuid = (e.fullUrl ?? '').replace('urn:uuid:', '');
        targets.set(uuid, `${e.resource.resourceType}/${entryId(e, uuid)}`);
      }
      for (const e of entries) {
        const uuid = (e.fullUrl ?? '').replace('urn:uuid:', '');
        const id = entryId(e, uuid);
        const line = rewrite(e.resource, id, targets);
        if (e.request?.ifNoneExist) {
          directory.set(id, line);
        } else {
          lines.push(line);
        }
      }
    }
    files.push({ text: lines.join('\n') + '\n', resources: lines.length });
  }
  const providers = [...directory.values()];
  return [{ text: providers.join('\n') + '\n', resources: providers.length }, ...files];
}
