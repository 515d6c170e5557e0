/**
 * One-dimensional PostgreSQL arrays in the binary wire format (array_recv), for the flush
 * statement's parameters. node-postgres sends a Buffer parameter as binary; a JS array it turns
 * into an array literal, escaping every quote and backslash of every element, which for JSON
 * content is most of the cost of sending a bundle, and PostgreSQL then parses that literal back.
 * The binary form is length-prefixed bytes: no escaping on either side.
 *
 * Elements: text (UTF-8 bytes), int4, int8 (safe integers) and bool. Other types (timestamptz,
 * numeric) travel as text[] and are cast in SQL, so their input rules stay PostgreSQL's own.
 */

const OID = { text: 25, int4: 23, int8: 20, bool: 16 } as const;
const HEADER_BYTES = 20; // ndim, flags, element type, length and lower bound of the one dimension

function header(buf: Buffer, count: number, hasNull: boolean, oid: number): void {
  buf.writeInt32BE(1, 0);
  buf.writeInt32BE(hasNull ? 1 : 0, 4);
  buf.writeInt32BE(oid, 8);
  buf.writeInt32BE(count, 12);
  buf.writeInt32BE(1, 16);
}

/**
 * text[]; null and undefined elements are NULL. The buffer is sized for the worst case (3 UTF-8
 * bytes per UTF-16 unit) rather than measured: measuring is a second pass over every JSON
 * content string, and the unused tail is cut off by subarray (no copy).
 */
export function textArray(values: readonly (string | null | undefined)[]): Buffer {
  let size = HEADER_BYTES + 4 * values.length;
  let hasNull = false;
  for (const v of values) {
    if (v === null || v === undefined) {
      hasNull = true;
    } else {
      size += 3 * v.length;
    }
  }
  const buf = Buffer.allocUnsafe(size);
  header(buf, values.length, hasNull, OID.text);
  let pos = HEADER_BYTES;
  for (const v of values) {
    if (v === null || v === undefined) {
      buf.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      const len = buf.write(v, pos + 4, 'utf8');
      buf.writeInt32BE(len, pos);
      pos += 4 + len;
    }
  }
  return buf.subarray(0, pos);
}

/** int4[] of non-null integers. */
export function int4Array(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 8 * values.length);
  header(buf, values.length, false, OID.int4);
  let pos = HEADER_BYTES;
  for (const v of values) {
    buf.writeInt32BE(4, pos);
    buf.writeInt32BE(v, pos + 4);
    pos += 8;
  }
  return buf;
}

/** int8[] of non-null safe integers. */
export function int8Array(values: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 12 * values.length);
  header(buf, values.length, false, OID.int8);
  let pos = HEADER_BYTES;
  for (const v of values) {
    const high = Math.floor(v / 0x1_0000_0000);
    buf.writeInt32BE(8, pos);
    buf.writeInt32BE(high, pos + 4);
    buf.writeUInt32BE(v - high * 0x1_0000_0000, pos + 8);
    pos += 12;
  }
  return buf;
}

/** bool[] of non-null booleans. */
export function boolArray(values: readonly boolean[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 5 * values.length);
  header(buf, values.length, false, OID.bool);
  let pos = HEADER_BYTES;
  for (const v of values) {
    buf.writeInt32BE(1, pos);
    buf.writeUInt8(v ? 1 : 0, pos + 4);
    pos += 5;
  }
  return buf;
}
