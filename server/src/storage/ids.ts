import { randomBytes } from 'node:crypto';

/**
 * Server-assigned resource ids: UUID version 7 (RFC 9562), a 48-bit millisecond timestamp then 74
 * random bits. Ids made close in time sort together, so the `(type, id)` index and the reference
 * indexes that hold them take new entries at their right edge rather than on random pages of an
 * ever larger index. The ids reveal when a resource was created, to the millisecond, as its
 * first version's meta.lastUpdated does.
 */
export function newResourceId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((bytes[6] as number) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
