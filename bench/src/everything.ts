/** Patient/[id]/$everything for random patients, following `next` links until the last page. */
import type { Bundle } from '@medplum/fhirtypes';
import type { Dataset } from './dataset';
import { getJson, nextLink } from './http';
import { measure, type CheckedLatency } from './measure';
import { pick, warmedUp } from './stats';

const WARM_UP = 3;

export interface EverythingResult extends CheckedLatency {
  /** Mean resources returned per patient, and pages per patient. */
  readonly meanResources: number;
  readonly meanPages: number;
}

export async function patientEverything(
  fhirBase: string,
  data: Dataset,
  patientIds: readonly string[],
  patients: number
): Promise<EverythingResult> {
  const targets = warmedUp(pick(data.patients, patients, data.seed + 3), WARM_UP);
  let resources = 0;
  let pages = 0;
  const checked = await measure(targets, WARM_UP, async (patient) => {
    const first = `${fhirBase}/Patient/${patientIds[patient.index]}/$everything`;
    let url: string | undefined = first;
    let ms = 0;
    let count = 0;
    while (url) {
      const page: { ms: number; body: Bundle } = await getJson<Bundle>(url);
      ms += page.ms;
      count += page.body.entry?.length ?? 0;
      pages++;
      url = nextLink(page.body);
    }
    resources += count;
    const expected = patient.expected.compartment;
    return { ms, problem: count === expected ? undefined : `GET ${first}: ${count} resources, expected ${expected}` };
  });
  return { ...checked, meanResources: resources / targets.length, meanPages: pages / targets.length };
}
