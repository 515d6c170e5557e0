import { randomFillSync } from 'node:crypto';

/**
 * Server-assigned resource ids: UUID version 7 (RFC 9562), a 48-bit millisecond timestamp then 74
 * random bits. Ids made close in time sort together, so the `(type, id)` index and the reference
 * indexes that hold them take new entries at their right edge rather than on random pages of an
 * ever larger index. The ids reveal when a resource was created, to the millisecond, as its
 * first version's meta.lastUpdated does.
 */
export function newResourceId(now = Date.now()): string {
  const r = takeRandom();
  const hi = Math.floor(now / 0x1_0000_0000);
  const lo = now - hi * 0x1_0000_0000;
  return (
    hex16(hi) +
    hex16(lo >>> 16) +
    '-' +
    hex16(lo & 0xffff) +
    '-' +
    hex16(0x7000 | (((RANDOM[r]! << 8) | RANDOM[r + 1]!) & 0x0fff)) + // version 7, 12 random bits
    '-' +
    hex16(0x8000 | (((RANDOM[r + 2]! << 8) | RANDOM[r + 3]!) & 0x3fff)) + // variant 10, 14 random bits
    '-' +
    hex16((RANDOM[r + 4]! << 8) | RANDOM[r + 5]!) +
    hex16((RANDOM[r + 6]! << 8) | RANDOM[r + 7]!) +
    hex16((RANDOM[r + 8]! << 8) | RANDOM[r + 9]!)
  );
}

/*
 * A bundle assigns hundreds of ids; one randomBytes(16) call each (a Buffer and a trip into C++
 * per id) was ~1% of ingest CPU. The bytes come from the same CSPRNG, drawn 4 KB at a time; each
 * id uses 10 fresh bytes (its 74 random bits are masked from 80).
 */
const RANDOM = Buffer.alloc(4000);
let randomAt = RANDOM.length;

function takeRandom(): number {
  if (randomAt + 10 > RANDOM.length) {
    randomFillSync(RANDOM);
    randomAt = 0;
  }
  const at = randomAt;
  randomAt += 10;
  return at;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Four hex digits of a 16-bit value. */
function hex16(value: number): string {
  return HEX[(value >>> 8) & 0xff]! + HEX[value & 0xff]!;
}
