import type { FileHandle } from 'node:fs/promises';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportFile, FileKind } from './store';

export interface Line {
  text: string;
  /** The patient the line is about, if any. */
  about?: string | null;
}

/** Where a writer reports: a finished file, and the patients of the lines it just wrote. */
export interface WriterSink {
  fileDone(file: ExportFile): Promise<void>;
  patients(fileName: string, ids: readonly string[]): Promise<void>;
}

/**
 * Writes the lines of one output (a resource type, the deletions or the messages) to NDJSON files
 * of at most `maxLines` lines each. A file is written under `<name>.part`, synced and renamed when
 * full or closed, and only then reported: a file that is listed is complete.
 */
export class NdjsonWriter {
  private handle: FileHandle | undefined;
  private name = '';
  private seq = 0;
  private lines = 0;
  private bytes = 0;
  private total = 0;

  constructor(
    private readonly dir: string,
    private readonly kind: FileKind,
    private readonly type: string,
    private readonly maxLines: number,
    private readonly sink: WriterSink
  ) {}

  /** Lines written so far, over all files. */
  get count(): number {
    return this.total;
  }

  private fileName(seq: number): string {
    const stem = this.kind === 'output' ? this.type : this.kind;
    return `${stem}-${seq}.ndjson`;
  }

  async write(lines: readonly Line[]): Promise<void> {
    let start = 0;
    while (start < lines.length) {
      if (!this.handle) {
        this.seq++;
        this.name = this.fileName(this.seq);
        this.handle = await open(join(this.dir, `${this.name}.part`), 'wx');
      }
      const room = this.maxLines - this.lines;
      const chunk = lines.slice(start, start + room);
      const text = `${chunk.map((l) => l.text).join('\n')}\n`;
      await this.handle.write(text);
      const about = [...new Set(chunk.map((l) => l.about).filter((p): p is string => Boolean(p)))];
      await this.sink.patients(this.name, about);
      this.lines += chunk.length;
      this.total += chunk.length;
      this.bytes += Buffer.byteLength(text);
      start += chunk.length;
      if (this.lines >= this.maxLines) {
        await this.finishFile();
      }
    }
  }

  private async finishFile(): Promise<void> {
    const handle = this.handle;
    if (!handle) {
      return;
    }
    this.handle = undefined;
    await handle.sync();
    await handle.close();
    await rename(join(this.dir, `${this.name}.part`), join(this.dir, this.name));
    await this.sink.fileDone({
      name: this.name,
      kind: this.kind,
      type: this.type,
      count: this.lines,
      bytes: String(this.bytes),
      seq: this.seq,
    });
    this.lines = 0;
    this.bytes = 0;
  }

  /** Finishes the last file (an empty output leaves none). */
  async close(): Promise<void> {
    await this.finishFile();
  }

  /** Closes without reporting (the attempt is abandoned; its directory is deleted). */
  async abandon(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}
