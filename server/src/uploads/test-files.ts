import { PDFDocument } from 'pdf-lib';
import { crc32, deflateSync } from 'node:zlib';

/** Tiny real files of each accepted type, built in the test rather than checked in. */

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 1×1 RGB PNG of the given colour (distinct colours give distinct files). */
export function png(red = 255, green = 0, blue = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const row = Buffer.from([0, red, green, blue]); // filter byte 0, then the pixel
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(row)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A 1×1 grey baseline JPEG: one quantisation table, one-code Huffman tables, and a scan of one block whose DC
 * difference is 0 and whose AC coefficients end at once (the bits 0 and 0, padded with ones: 0x3f).
 */
export function jpeg(): Buffer {
  const segment = (marker: number, body: number[]): number[] => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const oneCodeTable = (tableClass: number): number[] => [tableClass, 1, ...new Array<number>(15).fill(0), 0];
  return Buffer.from([
    0xff,
    0xd8,
    ...segment(0xdb, [0, ...new Array<number>(64).fill(1)]),
    ...segment(0xc0, [8, 0, 1, 0, 1, 1, 1, 0x11, 0]),
    ...segment(0xc4, oneCodeTable(0x00)),
    ...segment(0xc4, oneCodeTable(0x10)),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    0x3f,
    0xff,
    0xd9,
  ]);
}

/** A one-page PDF (pdf-lib), with a line of text so two calls with different text differ. */
export async function pdf(text = 'Hale upload test'): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 100]).drawText(text, { x: 10, y: 50, size: 10 });
  return Buffer.from(await doc.save());
}

/** An HEIF container's opening: the ftyp box (major brand heic) and an empty mdat; enough for the sniff. */
export function heic(): Buffer {
  const ftyp = Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from('ftypheic', 'latin1'),
    Buffer.from([0, 0, 0, 0]),
    Buffer.from('mif1heic', 'latin1'),
  ]);
  return Buffer.concat([ftyp, Buffer.from([0, 0, 0, 8]), Buffer.from('mdat', 'latin1')]);
}

/** A DICOM Part 10 file's opening: the 128-byte preamble, 'DICM', and one group-2 element. */
export function dicom(): Buffer {
  const element = Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x02, 0x00, 0x31, 0x00]); // (0002,0010) UI "1"
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element]);
}
