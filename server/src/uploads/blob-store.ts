import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/** A stored file, opened for reading. */
export interface StoredBlob {
  stream: Readable;
  size: number;
}

/**
 * Where uploaded files are kept, by key (`binary/<id>/<versionId>`, blobKey). An upload is first received into
 * a local file (uploads/receive.ts: the size limit, the type sniff and the virus scan all need the whole file
 * before it is kept), then `put` under its key. Local disk implements it here; an S3-compatible store would
 * implement `put` as a multipart upload of that file, `open` as a GetObject stream, `remove` as DeleteObject.
 */
export interface BlobStore {
  /** Keeps the received file at `file` under `key`; `file` is gone afterwards. */
  put(key: string, file: string): Promise<void>;
  /** The file under `key`, or undefined when there is none. */
  open(key: string): Promise<StoredBlob | undefined>;
  /** Removes the file under `key` (nothing when there is none). */
  remove(key: string): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/**
 * The key of a Binary version's file. Keyed by version, as Medplum does: a JSON update of the Binary is a new
 * version with no file, so it cannot inherit (or, after a delete, re-attach to) a file it was not uploaded with.
 * Undefined for ids no upload creates (a client-chosen id with dots cannot name a path outside the store).
 */
export function blobKey(binary: { id?: string; meta?: { versionId?: string } }): string | undefined {
  const { id } = binary;
  const version = binary.meta?.versionId;
  return id && version && SEGMENT.test(id) && SEGMENT.test(version) ? `binary/${id}/${version}` : undefined;
}

/** Files under one directory: `<dir>/<key>`; received files wait in `<dir>/tmp` (the same file system, so a rename). */
export class LocalBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  /** Where uploads are received before they are kept or discarded. */
  get spoolDir(): string {
    return join(this.dir, 'tmp');
  }

  async put(key: string, file: string): Promise<void> {
    const target = join(this.dir, key);
    await mkdir(dirname(target), { recursive: true });
    await rename(file, target);
  }

  async open(key: string): Promise<StoredBlob | undefined> {
    let handle;
    try {
      handle = await open(join(this.dir, key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw err;
    }
    try {
      const { size } = await handle.stat();
      return { stream: handle.createReadStream(), size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.dir, key), { force: true });
  }
}
