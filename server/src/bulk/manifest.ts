import type { ExportFile, ExportJob } from './store';

export interface ManifestItem {
  type: string;
  url: string;
  count: number;
}

/** The completion manifest (Bulk Data IG "Response - Complete Status"). */
export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: true;
  output: ManifestItem[];
  deleted?: ManifestItem[];
  error: ManifestItem[];
}

/**
 * Built from the finished files recorded in the database alone. Files are fetched with the same
 * kind of bearer token as the kick-off, from Hale itself (requiresAccessToken: true). `deleted` is
 * there when `_since` was given, empty when nothing was deleted.
 */
export function manifestOf(job: ExportJob, files: readonly ExportFile[], fileUrl: (name: string) => string): Manifest {
  const items = (kind: ExportFile['kind']): ManifestItem[] =>
    files.filter((f) => f.kind === kind).map((f) => ({ type: f.type, url: fileUrl(f.name), count: f.count }));
  return {
    transactionTime: job.transaction_time,
    request: job.request_url,
    requiresAccessToken: true,
    output: items('output'),
    ...(job.params.since ? { deleted: items('deleted') } : {}),
    error: items('error'),
  };
}
