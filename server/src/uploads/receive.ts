import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UploadType } from './sniff';
import { SNIFF_BYTES, sniff } from './sniff';

/** A file received whole into the spool directory, not yet kept. */
export interface ReceivedFile {
  path: string;
  /** The sniffed type (which agreed with the declared one). */
  contentType: UploadType;
  size: number;
  /** SHA-1 of the content, base64 (Attachment.hash). */
  sha1: string;
}

export class TooLarge extends Error {}

/** The content is not one of the accepted types, or not the declared one. */
export class TypeRefused extends Error {
  constructor(readonly sniffed: UploadType | undefined) {
    super(sniffed ? `the content is ${sniffed}` : 'the content is of no accepted type');
  }
}

interface ReceiveOptions {
  spoolDir: string;
  maxBytes: number;
  declared: UploadType;
  allowed: readonly UploadType[];
}

/**
 * The body's chunks, checked as they pass: the size limit on every chunk (a chunked body declares no length),
 * the type once the first SNIFF_BYTES have arrived (or the body ended sooner). Nothing is written before the type
 * is known. Stopping early must not destroy the request: its socket still carries the answer.
 */
async function* checked(stream: Readable, o: ReceiveOptions, sha1: ReturnType<typeof createHash>) {
  let size = 0;
  let head: Buffer[] | undefined = [];
  const decide = (): Buffer => {
    const bytes = Buffer.concat(head ?? []);
    const type = sniff(bytes);
    if (type !== o.declared || !o.allowed.includes(type)) {
      throw new TypeRefused(type);
    }
    head = undefined;
    return bytes;
  };
  for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > o.maxBytes) {
      throw new TooLarge();
    }
    sha1.update(chunk);
    if (!head) {
      yield chunk;
      continue;
    }
    head.push(chunk);
    if (size >= SNIFF_BYTES) {
      yield decide();
    }
  }
  if (head) {
    yield decide();
  }
}

/**
 * Receives an upload into a new file of the spool directory, streamed: at most a chunk (and the sniffed head) is
 * in memory at a time. On any failure (too large, wrong type, the client went away) the partial file is removed
 * before the error is thrown.
 */
export async function receive(stream: Readable, o: ReceiveOptions): Promise<ReceivedFile> {
  await mkdir(o.spoolDir, { recursive: true });
  const path = join(o.spoolDir, randomUUID());
  const sha1 = createHash('sha1');
  let size = 0;
  const counted = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      size += chunk.length;
      yield chunk;
    }
  };
  try {
    await pipeline(checked(stream, o, sha1), counted, createWriteStream(path, { flags: 'wx' }));
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { path, contentType: o.declared, size, sha1: sha1.digest('base64') };
}
