import { z } from 'zod';

/** The UPLOAD_* environment variables, merged into the server's one config schema (config.ts). */
export const UPLOAD_ENV = {
  UPLOAD_DIR: z.string().min(1).default('.hale-data/uploads'),
  UPLOAD_STORAGE: z
    .string()
    .refine(
      (v) => v === 'local',
      'only local (files under UPLOAD_DIR) is built; S3-compatible storage is an interface (uploads/blob-store.ts), not yet an implementation'
    )
    .default('local'),
  UPLOAD_MAX_BYTES: z
    .string()
    .regex(/^\d+(kb|mb)?$/i, 'a byte count such as 25mb, 512kb or 1048576')
    .default('25mb'),
  UPLOAD_ALLOW_DICOM: z.enum(['true', 'false']).default('false'),
  UPLOAD_SCAN_COMMAND: z
    .string()
    .regex(/^\S+(\s+\S+)*$/, 'an executable and its arguments, separated by spaces (no shell quoting)')
    .optional(),
  UPLOAD_SCAN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
};

type UploadEnv = z.infer<z.ZodObject<typeof UPLOAD_ENV>>;

export interface UploadConfig {
  /** Where uploaded files are kept (one file per Binary version) and received (tmp/). */
  dir: string;
  /** The largest file accepted, enforced while it arrives. */
  maxBytes: number;
  /** Accept DICOM Part 10 files (application/dicom) besides PDF, JPEG, PNG and HEIC. */
  allowDicom: boolean;
  /** The virus-scan command (the file's path is appended); undefined: no scan. */
  scanCommand: string[] | undefined;
  scanTimeoutMs: number;
}

export function uploadConfigOf(e: UploadEnv, parseByteSize: (v: string) => number): UploadConfig {
  return {
    dir: e.UPLOAD_DIR,
    maxBytes: parseByteSize(e.UPLOAD_MAX_BYTES),
    allowDicom: e.UPLOAD_ALLOW_DICOM === 'true',
    scanCommand: e.UPLOAD_SCAN_COMMAND?.trim().split(/\s+/),
    scanTimeoutMs: e.UPLOAD_SCAN_TIMEOUT_MS,
  };
}
