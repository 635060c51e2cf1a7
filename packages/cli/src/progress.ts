/**
 * Progress of a long command on stderr: a bar redrawn in place on a terminal (percentage,
 * records, records/s, ETA from the bytes read out of the total size of the inputs), plain lines
 * every few seconds otherwise, nothing when off.
 */

/** How progress is shown. */
export type ProgressMode = "bar" | "lines" | "off";

/** Where the work is. */
export interface ProgressState {
  /** Input bytes read so far. */
  bytes: number;
  /** Records read so far. */
  records: number;
  /** What is happening, when not reading (e.g. "waiting for the pipeline"). */
  phase?: string;
}

/** `m:ss` or `h:mm:ss`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export class Progress {
  private started: number;
  private lastDraw: number;
  private drawn = false;
  private state: ProgressState = { bytes: 0, records: 0 };

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly mode: ProgressMode,
    /** Total input bytes; undefined when unknown (standard input). */
    private readonly totalBytes: number | undefined,
    private readonly label = "ingest",
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    // Lines come every few seconds, the first one too; the bar shows at once.
    this.lastDraw = mode === "lines" ? this.started : 0;
  }

  /** Starts the clock of the rate and the ETA now (after the set-up). */
  begin(): void {
    this.started = this.now();
    if (this.mode === "lines") this.lastDraw = this.started;
  }

  /** Updates the state; redraws at most 10 times a second (bar) or every 5 s (lines). */
  update(state: ProgressState): void {
    this.state = state;
    const now = this.now();
    if (this.mode === "bar" && now - this.lastDraw >= 100) this.draw(now);
    else if (this.mode === "lines" && now - this.lastDraw >= 5_000) {
      this.lastDraw = now;
      this.stream.write(`${this.label}: ${this.describe(now)}\n`);
    }
  }

  /** Prints a line (above the bar, which is redrawn after). */
  line(text: string): void {
    if (this.mode === "bar" && this.drawn) this.stream.write("\r\x1b[2K");
    this.stream.write(`${text}\n`);
    if (this.mode === "bar" && this.drawn) this.draw(this.now());
  }

  /** Removes the bar. */
  finish(): void {
    if (this.mode === "bar" && this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }

  /** The state in words: records, rate, percentage and ETA when the total is known. */
  describe(now = this.now()): string {
    const elapsed = Math.max(0.001, (now - this.started) / 1000);
    const rate = this.state.records / elapsed;
    const parts = [`${this.state.records.toLocaleString("en-US")} records`, `${Math.round(rate).toLocaleString("en-US")} records/s`];
    if (this.state.phase) parts.push(this.state.phase);
    else if (this.totalBytes !== undefined && this.totalBytes > 0) {
      const fraction = Math.min(1, this.state.bytes / this.totalBytes);
      const bytesPerSecond = this.state.bytes / elapsed;
      parts.unshift(`${Math.floor(fraction * 100)}%`);
      if (bytesPerSecond > 0 && fraction < 1) parts.push(`ETA ${formatDuration((this.totalBytes - this.state.bytes) / bytesPerSecond)}`);
    }
    return parts.join(", ");
  }

  private draw(now: number): void {
    this.lastDraw = now;
    const width = 24;
    const fraction = this.totalBytes ? Math.min(1, this.state.bytes / this.totalBytes) : 0;
    const filled = Math.round(fraction * width);
    const bar = this.totalBytes ? `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ` : "";
    const text = `${this.label} ${bar}${this.describe(now)}`;
    const columns = this.stream.columns || 100;
    this.stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, columns - 1))}`);
    this.drawn = true;
  }
}
