import { buildDataset } from './dataset';
import { ingest } from './ingest';
import { createDatabase, dropDatabase } from './postgres';
import { startHale } from './server-process';
async function main() {
const pgUrl = 'postgres://postgres@127.0.0.1:5432';
const db = `hale_bench_scratch_${process.pid}`;
const data = buildDataset(1, Number(process.argv[2] ?? 8));
console.log('generated', data.resources, data.bytes, data.generateMs);
await createDatabase(pgUrl, db);
const hale = await startHale(`${pgUrl}/${db}`);
try {
  console.log(hale.fhirBase, hale.pid);
  const r = await ingest(hale.fhirBase, hale.pid, data.patients, { serialShare: 0.5, concurrency: 4, log: console.log });
  console.log(JSON.stringify(r.phases, null, 1), r.memory, r.matchedExisting, r.created.length, r.patientIds.slice(0, 3));
  const res = await fetch(`${hale.fhirBase}/Patient/${r.patientIds[0]}`);
  console.log(res.status, (await res.text()).slice(0, 300));
} finally {
  console.log(hale.stderrTail());
  await hale.stop();
  await dropDatabase(pgUrl, db);
}

}
void main();
