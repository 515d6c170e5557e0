import type { Resource } from '@medplum/fhirtypes';
import { generatePatientBundle } from '../../seed/src';
import { loadFhirDefinitions } from './fhir/definitions';
import { validateResourceForWrite } from './validation/validate';
loadFhirDefinitions();
let n = 0;
for (let p = 0; p < 3; p++) for (const e of generatePatientBundle({ seed: 1, patientIndex: p }).entry ?? []) { try { validateResourceForWrite({ ...(e.resource as Resource), id: 'x' + n++ }); } catch { /* */ } }
const g = globalThis as unknown as { invCounts?: Map<string, number> };
console.log('resources', n);
for (const [k, v] of [...(g.invCounts ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(v, k.slice(0, 200));
