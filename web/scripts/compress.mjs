#!/usr/bin/env node
// Writes .br and .gz beside every compressible file of dist/, once at build time, so Hale serves them
// without compressing on the request path (server/src/portal/static-files.ts).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;

function walk(dir) {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

let raw = 0;
let br = 0;
for (const file of walk(dist).filter((f) => COMPRESSIBLE.test(f))) {
  const body = readFileSync(file);
  const b = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  writeFileSync(`${file}.br`, b);
  writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  raw += body.length;
  br += b.length;
}
console.log(`compressed ${(raw / 1024).toFixed(0)} KB to ${(br / 1024).toFixed(0)} KB (brotli)`);
