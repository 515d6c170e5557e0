import { execFile } from 'node:child_process';

/** What the scan said of one received file. */
export type ScanVerdict = { clean: true } | { clean: false };

/** The file about to be kept: its local path, what it was sniffed as, its size. */
export interface ScannedFile {
  path: string;
  contentType: string;
  size: number;
}

/**
 * The virus-scan hook point: called once a file is wholly received and before anything of it is kept (no
 * Binary, no DocumentReference, no stored file). A refusal answers 422; a scanner that cannot answer throws
 * ScanUnavailable (503), so a broken scanner never lets a file through.
 */
export interface VirusScanner {
  scan(file: ScannedFile): Promise<ScanVerdict>;
}

export class ScanUnavailable extends Error {}

export const noScan: VirusScanner = { scan: () => Promise.resolve({ clean: true }) };

/**
 * A scanner command (UPLOAD_SCAN_COMMAND) run with the file's path appended, e.g. `clamdscan --no-summary
 * --fdpass`: exit 0 is clean and 1 is infected (ClamAV's convention); any other exit, a signal or the timeout is
 * ScanUnavailable. Run without a shell, so nothing in the path is interpreted. Its output is not logged (a
 * scanner may print the file's name or content).
 */
export function commandScanner(argv: readonly string[], timeoutMs: number): VirusScanner {
  const [command, ...args] = argv;
  if (!command) {
    throw new Error('UPLOAD_SCAN_COMMAND is empty');
  }
  return {
    scan: (file) =>
      new Promise((resolve, reject) => {
        execFile(command, [...args, file.path], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err) => {
          if (!err) {
            resolve({ clean: true });
          } else if (err.code === 1 && !err.killed) {
            resolve({ clean: false });
          } else {
            reject(new ScanUnavailable(`the scan command failed (${err.code ?? err.signal ?? 'no exit code'})`));
          }
        });
      }),
  };
}
