/**
 * A run's console output, capped at the run's byte limit. Lines are kept whole and in order: once
 * one does not fit, it and every later line are counted instead of kept, and the last line says how
 * much was cut. Kept lines are taken in batches so they can stream to the server while the bot runs.
 */
export class RunLog {
  private keptBytes = 0;
  private cutLines = 0;
  private cutBytes = 0;
  private batch: string[] = [];

  constructor(private readonly limitBytes: number) {}

  /** `fullLength` is the line's length before the isolate shortened it to the limit (the rest counts as cut). */
  add(level: string, text: string, fullLength: number): void {
    const line = `[${level}] ${text}`;
    const bytes = Buffer.byteLength(line) + Math.max(0, fullLength - text.length);
    if (this.cutLines === 0 && this.keptBytes + bytes <= this.limitBytes) {
      this.keptBytes += bytes;
      this.batch.push(line);
    } else {
      this.cutLines++;
      this.cutBytes += bytes;
    }
  }

  /** Lines kept since the last call. */
  take(): string[] {
    const lines = this.batch;
    this.batch = [];
    return lines;
  }

  /** The closing line when something was cut. */
  summary(): string | undefined {
    if (this.cutLines === 0) {
      return undefined;
    }
    return `[sandbox] ${this.cutLines} more line(s), ${this.cutBytes} bytes, cut: the log of a run is limited to ${this.limitBytes} bytes`;
  }
}
