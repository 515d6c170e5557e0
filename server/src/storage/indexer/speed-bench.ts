/**
 * Measures buildIndexRows over the Synthea fixtures and prints µs per resource. Run as a script
 * (speed.test.ts starts it in a plain Node process: inside Jest's vm sandbox every global lookup
 * such as Array.isArray is several times slower, which would triple the figure).
 */
import { loadFhirDefinitions } from '../../fhir/definitions';
import { buildIndexRows } from './index';
import { loadSyntheaResources } from './synthea-fixtures';
import { spIds } from './test-sp-ids';

const PASSES = 10;

function main(): void {
  loadFhirDefinitions();
  const resources = loadSyntheaResources();
  const { lookupSp } = spIds();
  const options = { baseUrl: 'http://localhost:8103/fhir/R4' };
  let rowCount = 0;
  for (const resource of resources) {
    const rows = buildIndexRows(resource, lookupSp, options);
    rowCount += rows.token.length + rows.string.length + rows.date.length + rows.number.length;
    rowCount += rows.quantity.length + rows.reference.length + rows.uri.length;
  }
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    const start = process.hrtime.bigint();
    const startCpu = process.cpuUsage();
    for (const resource of resources) {
      buildIndexRows(resource, lookupSp, options);
    }
    const usedCpu = process.cpuUsage(startCpu);
    wall.push(Number(process.hrtime.bigint() - start) / 1000 / resources.length);
    cpu.push((usedCpu.user + usedCpu.system) / resources.length);
  }
  const average = (values: number[]): string => (values.reduce((sum, v) => sum + v, 0) / values.length).toFixed(1);
  // CPU time next to wall time: on a busy machine wall time mostly measures the other processes.
  console.log(
    `buildIndexRows over ${resources.length} Synthea resources (${(rowCount / resources.length).toFixed(1)} rows each), ` +
      `${PASSES} passes: ${average(wall)} µs/resource wall (best pass ${Math.min(...wall).toFixed(1)}), ` +
      `${average(cpu)} µs/resource CPU`
  );
}

main();
