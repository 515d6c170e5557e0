/**
 * What a file is, from its first bytes (magic numbers), never from what the client declared. Only the types
 * uploads accept are recognised; anything else is unknown. Small enough to keep here rather than take a
 * dependency (file-type knows hundreds of formats and would need a `fileTypeFromStream` pass of its own).
 */

export type UploadType = 'application/pdf' | 'image/jpeg' | 'image/png' | 'image/heic' | 'application/dicom';

/** Bytes the sniffer needs before it can decide (DICOM's 'DICM' follows a 128-byte preamble). */
export const SNIFF_BYTES = 132;

/** HEIF brands of still images (ISO/IEC 23008-12): HEIC proper, its sequences, and the generic image brands. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The type of a file whose first bytes are `head` (all of it when shorter than SNIFF_BYTES), or undefined. */
export function sniff(head: Buffer): UploadType | undefined {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') {
    return 'application/pdf';
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return 'image/jpeg';
  }
  if (head.subarray(0, 8).equals(PNG)) {
    return 'image/png';
  }
  if (head.subarray(4, 8).toString('latin1') === 'ftyp' && HEIF_BRANDS.has(head.subarray(8, 12).toString('latin1'))) {
    return 'image/heic';
  }
  if (head.subarray(128, 132).toString('latin1') === 'DICM') {
    return 'application/dicom';
  }
  return undefined;
}

/** Declared media types each sniffed type answers to (a client may say image/jpg or image/heif). */
const DECLARED: Record<UploadType, readonly string[]> = {
  'application/pdf': ['application/pdf'],
  'image/jpeg': ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  'image/png': ['image/png'],
  'image/heic': ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'],
  'application/dicom': ['application/dicom'],
};

export function allowedTypes(allowDicom: boolean): UploadType[] {
  const types: UploadType[] = ['application/pdf', 'image/jpeg', 'image/png', 'image/heic'];
  return allowDicom ? [...types, 'application/dicom'] : types;
}

/** The allowed type a declared Content-Type names, or undefined. */
export function declaredType(contentType: string, allowed: readonly UploadType[]): UploadType | undefined {
  return allowed.find((t) => DECLARED[t].includes(contentType));
}

/** Every declared Content-Type accepted for these types (for error messages and the docs). */
export function acceptedContentTypes(allowed: readonly UploadType[]): string[] {
  return allowed.flatMap((t) => DECLARED[t]);
}
