import { validateResource } from '@medplum/core';
import { loadFhirDefinitions } from '../../../server/src/fhir/definitions';
import { terminologyProblems } from '../fhir-checks';
import { generatePatientBundle } from '../index';
test('extremes', () => {
  loadFhirDefinitions();
  const cases = [
    { resourcesPerPatient: 5000, referenceDate: '2026-01-01' },
    { resourcesPerPatient: 300, referenceDate: '1995-06-15' },
    { resourcesPerPatient: 20000, referenceDate: '2030-12-31' },
    { resourcesPerPatient: 6, referenceDate: '2024-02-29' },
  ];
  for (const c of cases) {
    for (let i = 0; i < 6; i++) {
      const t = performance.now();
      const b = generatePatientBundle({ seed: 31, patientIndex: i, ...c });
      const ms = performance.now() - t;
      expect(b.entry).toHaveLength(c.resourcesPerPatient);
      let bad = 0;
      for (const e of b.entry ?? []) {
        const issues = validateResource(e.resource!).filter((x) => !x.details?.text?.startsWith('Invalid reference'));
        const probs = terminologyProblems(e.resource!);
        if (issues.length || probs.length) { bad++; if (bad < 3) console.log(JSON.stringify(issues), JSON.stringify(probs)); }
      }
      const enc = b.entry!.filter((e) => e.resource!.resourceType === 'Encounter').map((e) => (e.resource as any).period.start);
      const pat = b.entry!.find((e) => e.resource!.resourceType === 'Patient')!.resource as any;
      if (i < 2) console.log(c.resourcesPerPatient, c.referenceDate, 'birth', pat.birthDate, 'enc', enc.length, enc[0], enc.at(-1), 'bad', bad, ms.toFixed(0) + 'ms');
      expect(bad).toBe(0);
    }
  }
});
