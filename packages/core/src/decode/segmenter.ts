/**
 * Splits a stream of text into top-level JSON values and non-JSON lines, in flat memory.
 *
 * One scanner covers every container format bedrock-spend reads: JSON Lines (Bedrock's S3
 * delivery), a pretty-printed single document (a record, a subscription payload, the output of
 * `aws logs filter-log-events`), concatenated documents, and a root JSON array, whose elements
 * are emitted one by one so that a multi-GB array never sits in memory. Lines that do not start
 * a JSON value (base64 Kinesis data, the "Permissions are correctly set" line, garbage) come out
 * as text segments for the classifier to judge.
 *
 * The scanner never throws on input. Truncated values, values that are too large and values
 * nested too deeply come out as error segments that carry what was read, so that the caller can
 * quarantine them.
 */

/** A piece of input the segmenter delimited. `line` is the 1-based line where it starts. */
export type Segment =
  | { kind: "json"; text: string; line: number }
  | { kind: "text"; text: string; line: number }
  | {
      kind: "error";
      field: "json";
      reason: string;
      text: string;
      line: number;
    };

/** Limits that keep one bad input from exhausting memory. */
export interface SegmenterOptions {
  /** Largest single value (or text line) kept, in UTF-16 code units. Default 64 MiB. */
  maxSegmentChars?: number;
  /** Deepest nesting accepted. Default 512: Bedrock records nest a few dozen levels at most. */
  maxDepth?: number;
  /**
   * The input is known to be JSON Lines (Bedrock's S3 delivery): every line is one value, so a line
   * cut off is one invalid segment even when it is the first. Detected otherwise from the first
   * complete line, and until then a value may span lines: a first line cut off would take the
   * lines after it into the same invalid segment.
   */
  jsonLines?: boolean;
}

const DEFAULT_MAX_SEGMENT_CHARS = 64 * 1024 * 1024;
/** Default `maxDepth`. */
export const DEFAULT_MAX_DEPTH = 512;
/** How much of an oversized value is kept, for the quarantine. */
const OVERSIZE_KEEP_CHARS = 4096;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

function isWhitespace(code: number): boolean {
  // space, tab, CR, LF, and the byte-order mark some editors put at the start of a file
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a || code === 0xfeff;
}

type Mode =
  /** Between top-level values. */
  | "top"
  /** Inside a root array, between elements. */
  | "array"
  /** Inside an object or array value. */
  | "value"
  /** Inside a primitive element of a root array. */
  | "primitive"
  /** Inside a non-JSON line. */
  | "text";

/**
 * Incremental segmenter: `push` text chunks in order, then call `end`. Each call returns the
 * segments completed so far. State is kept between calls, so each character is scanned once.
 */
export class JsonSegmenter {
  private readonly maxSegmentChars: number;
  private readonly maxDepth: number;

  /** Unconsumed text; `buf[0]` is the first character of the pending segment, if any. */
  private buf = "";
  /** Scan position within `buf`. */
  private pos = 0;
  private mode: Mode = "top";
  /** Line number of `buf[pos]`. */
  private line = 1;
  private segmentLine = 1;
  private depth = 0;
  private maxDepthSeen = 0;
  private inString = false;
  /** True while the current value is an element of a root array. */
  private inRootArray = false;
  private rootArrayLine = 1;
  /**
   * Set once the input has shown itself to be line-delimited (a complete value on one line, or a
   * non-JSON line). From then on a line that ends inside a value is a truncated record, not a
   * pretty-printed document, so one bad line cannot swallow the lines after it.
   */
  private linesMode = false;
  /** Position of the next newline at or after `pos`, cached so that each line is searched once. */
  private nextNewline = -1;
  /** Set when the pending segment outgrew `maxSegmentChars`; its text is being dropped. */
  private oversize = false;
  private oversizePrefix = "";
  private oversizeChars = 0;

  constructor(options: SegmenterOptions = {}) {
    this.maxSegmentChars = options.maxSegmentChars ?? DEFAULT_MAX_SEGMENT_CHARS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.linesMode = options.jsonLines === true;
  }

  /** Feeds the next chunk of text and returns the segments it completed. */
  push(chunk: string): Segment[] {
    const out: Segment[] = [];
    if (chunk.length === 0) return out;
    if (this.cannotEndPending(chunk)) {
      // Searching the pending text again would flatten the concatenation on every chunk: quadratic
      // in the length of a long line or string (a gzip bomb of one line took minutes).
      this.buf += chunk;
      this.pos = this.buf.length;
      this.compact();
      return out;
    }
    this.buf = this.pos === 0 && this.buf.length === 0 ? chunk : this.buf + chunk;
    this.nextNewline = -1;
    this.scan(out);
    this.compact();
    return out;
  }

  /**
   * Whether `chunk` leaves the scan where it is: the pending text line has no newline in it, or
   * the pending string no quote (nor, in JSON Lines, a newline), and everything before was scanned.
   */
  private cannotEndPending(chunk: string): boolean {
    if (this.pos !== this.buf.length) return false;
    if (this.mode === "text") return !chunk.includes("\n");
    return this.mode === "value" && this.inString && !chunk.includes('"') && !(this.linesMode && chunk.includes("\n"));
  }

  /** Signals the end of input and returns the last segments, including a truncated value. */
  end(): Segment[] {
    const out: Segment[] = [];
    this.scan(out);
    switch (this.mode) {
      case "value":
        out.push(...this.truncatedValue());
        break;
      case "primitive":
        this.emitPrimitive(out, this.buf.length);
        break;
      case "text":
        this.emitText(out, this.buf.length);
        break;
      case "array":
        out.push({
          kind: "error",
          field: "json",
          reason: `unterminated JSON array that opened on line ${this.rootArrayLine}`,
          text: "",
          line: this.line,
        });
        break;
      case "top":
        break;
    }
    this.reset();
    return out;
  }

  /**
   * Abandons the input mid-stream (for example when the gzip layer under it failed) and returns
   * the text of the pending, incomplete segment so that it can be quarantined with the failure.
   */
  abort(): { text: string; line: number } | undefined {
    const pending =
      this.mode === "value" || this.mode === "primitive" || this.mode === "text"
        ? {
            text: this.oversize ? this.oversizePrefix : this.buf,
            line: this.segmentLine,
          }
        : undefined;
    this.reset();
    return pending && pending.text.trim().length > 0 ? pending : undefined;
  }

  private reset(): void {
    this.buf = "";
    this.pos = 0;
    this.mode = "top";
    this.depth = 0;
    this.maxDepthSeen = 0;
    this.inString = false;
    this.inRootArray = false;
    this.oversize = false;
    this.oversizePrefix = "";
    this.oversizeChars = 0;
  }

  private truncatedReason(): string {
    return this.inRootArray
      ? `JSON value starting on line ${this.segmentLine} ends before it is complete (truncated array element)`
      : `JSON value starting on line ${this.segmentLine} ends before it is complete (truncated)`;
  }

  /** Drops consumed text so that memory stays proportional to one segment. */
  private compact(): void {
    if (this.mode === "top" || this.mode === "array") {
      this.buf = this.buf.slice(this.pos);
      this.pos = 0;
      return;
    }
    const pendingChars = this.pos;
    if (pendingChars > this.maxSegmentChars && !this.oversize) {
      this.oversize = true;
      this.oversizePrefix = this.buf.slice(0, OVERSIZE_KEEP_CHARS);
      this.oversizeChars = 0;
    }
    if (this.oversize) {
      // Keep a short tail so that a backslash run just before the cut is still counted.
      const keep = Math.min(this.pos, 1024);
      this.oversizeChars += this.pos - keep;
      this.buf = this.buf.slice(this.pos - keep);
      this.pos = keep;
    }
  }

  private scan(out: Segment[]): void {
    // Sub-scanners re-slice `buf` when a segment starts or ends, so re-read it every turn.
    while (this.pos < this.buf.length) {
      switch (this.mode) {
        case "top":
          this.scanTop();
          break;
        case "array":
          this.scanArray();
          break;
        case "value":
          if (!this.scanValue(out)) return;
          break;
        case "primitive":
          if (!this.scanPrimitive(out)) return;
          break;
        case "text":
          if (!this.scanText(out)) return;
          break;
      }
    }
  }

  /** Starts a segment at `pos`, dropping what came before it. */
  private startSegment(mode: Mode): void {
    this.buf = this.buf.slice(this.pos);
    this.pos = 0;
    this.nextNewline = -1;
    this.segmentLine = this.line;
    this.mode = mode;
    this.depth = 0;
    this.maxDepthSeen = 0;
    this.inString = false;
  }

  private scanTop(): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      const code = buf.charCodeAt(this.pos);
      if (isWhitespace(code)) {
        if (code === NEWLINE) this.line++;
        this.pos++;
        continue;
      }
      if (code === OPEN_BRACKET) {
        // A root array: its elements are emitted one by one.
        this.rootArrayLine = this.line;
        this.inRootArray = true;
        this.mode = "array";
        this.pos++;
        return;
      }
      if (code === OPEN_BRACE) {
        this.startSegment("value");
        return;
      }
      this.startSegment("text");
      return;
    }
  }

  private scanArray(): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      const code = buf.charCodeAt(this.pos);
      if (isWhitespace(code) || code === COMMA) {
        if (code === NEWLINE) this.line++;
        this.pos++;
        continue;
      }
      if (code === CLOSE_BRACKET) {
        this.pos++;
        this.inRootArray = false;
        this.mode = "top";
        return;
      }
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        this.startSegment("value");
        return;
      }
      this.startSegment("primitive");
      return;
    }
  }

  /** Returns false when it needs more input. */
  private scanValue(out: Segment[]): boolean {
    const buf = this.buf;
    const length = buf.length;
    let pos = this.pos;
    while (pos < length) {
      if (this.inString) {
        const quote = buf.indexOf('"', pos);
        if (this.linesMode) {
          if (this.nextNewline < pos) {
            const nl = buf.indexOf("\n", pos);
            this.nextNewline = nl < 0 ? Number.MAX_SAFE_INTEGER : nl;
          }
          if (this.nextNewline !== Number.MAX_SAFE_INTEGER && (quote < 0 || this.nextNewline < quote)) {
            // A raw newline inside a string: the line was cut off.
            this.pos = this.nextNewline;
            this.emitTruncatedLine(out);
            return true;
          }
        }
        if (quote < 0) {
          this.pos = length;
          return false;
        }
        let backslashes = 0;
        for (let i = quote - 1; i >= 0 && buf.charCodeAt(i) === BACKSLASH; i--) backslashes++;
        pos = quote + 1;
        if (backslashes % 2 === 0) this.inString = false;
        continue;
      }
      const code = buf.charCodeAt(pos);
      if (code === QUOTE) {
        this.inString = true;
        pos++;
        continue;
      }
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        this.depth++;
        if (this.depth > this.maxDepthSeen) this.maxDepthSeen = this.depth;
        pos++;
        continue;
      }
      if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        this.depth--;
        pos++;
        if (this.depth === 0) {
          this.pos = pos;
          this.emitValue(out);
          return true;
        }
        continue;
      }
      if (code === NEWLINE) {
        if (this.linesMode) {
          this.pos = pos;
          this.emitTruncatedLine(out);
          return true;
        }
        this.line++;
      }
      pos++;
    }
    this.pos = pos;
    return false;
  }

  private scanPrimitive(out: Segment[]): boolean {
    const buf = this.buf;
    let pos = this.pos;
    while (pos < buf.length) {
      const code = buf.charCodeAt(pos);
      if (this.inString) {
        if (code === BACKSLASH) {
          pos += 2;
          continue;
        }
        if (code === QUOTE) this.inString = false;
        pos++;
        continue;
      }
      if (code === QUOTE) {
        this.inString = true;
        pos++;
        continue;
      }
      if (code === COMMA || code === CLOSE_BRACKET || isWhitespace(code)) {
        this.emitPrimitive(out, pos);
        return true;
      }
      pos++;
    }
    // May sit one past the end after a backslash: the escaped character comes with the next chunk.
    this.pos = pos;
    return false;
  }

  private scanText(out: Segment[]): boolean {
    const newline = this.buf.indexOf("\n", this.pos);
    if (newline < 0) {
      this.pos = this.buf.length;
      return false;
    }
    this.emitText(out, newline);
    return true;
  }

  private emitValue(out: Segment[]): void {
    const end = this.pos;
    const oneLine = this.line === this.segmentLine;
    if (this.oversize) {
      out.push(this.oversizeSegment(end));
    } else if (this.maxDepthSeen > this.maxDepth) {
      out.push(this.errorSegment(`JSON nesting is ${this.maxDepthSeen} levels deep, more than the ${this.maxDepth} allowed`, end));
    } else {
      out.push({
        kind: "json",
        text: this.buf.slice(0, end),
        line: this.segmentLine,
      });
    }
    this.finishSegment(end);
    if (!this.inRootArray && oneLine) {
      const next = this.buf.charCodeAt(0);
      // A value that closed on the line it opened on, followed by a newline (or more input on
      // the next lines), marks JSON Lines.
      if (Number.isNaN(next) || next === NEWLINE || next === 0x0d) this.linesMode = true;
    }
  }

  private emitTruncatedLine(out: Segment[]): void {
    // `pos` is at the newline that cut the value short.
    out.push(this.errorSegment(`line ${this.segmentLine} ends before its JSON value is complete (truncated line)`, this.pos));
    this.finishSegment(this.pos);
  }

  private emitPrimitive(out: Segment[], end: number): void {
    out.push({
      kind: "json",
      text: this.buf.slice(0, end),
      line: this.segmentLine,
    });
    this.finishSegment(end);
  }

  private emitText(out: Segment[], end: number): void {
    if (this.oversize) {
      out.push(this.oversizeSegment(end));
    } else {
      let text = this.buf.slice(0, end);
      if (text.endsWith("\r")) text = text.slice(0, -1);
      out.push({ kind: "text", text, line: this.segmentLine });
    }
    this.linesMode = true;
    this.finishSegment(end);
  }

  /**
   * The value the input ended in. When it is the first line of what reads as JSON Lines (cut off
   * before JSON Lines could be recognized, with the next line opening a value at its first
   * column), the text is read again line by line, so that the lines after the cut are not lost
   * inside one invalid segment. A pretty-printed document cut off stays one segment.
   */
  private truncatedValue(): Segment[] {
    const text = this.buf;
    const newline = text.indexOf("\n");
    if (this.oversize || this.inRootArray || this.linesMode || newline < 0 || text.charCodeAt(newline + 1) !== OPEN_BRACE)
      return [this.errorSegment(this.truncatedReason())];
    const again = new JsonSegmenter({ maxSegmentChars: this.maxSegmentChars, maxDepth: this.maxDepth, jsonLines: true });
    const offset = this.segmentLine - 1;
    return [...again.push(text), ...again.end()].map((segment) => ({ ...segment, line: segment.line + offset }));
  }

  private oversizeSegment(end: number): Extract<Segment, { kind: "error" }> {
    const total = this.oversizeChars + end;
    return {
      kind: "error",
      field: "json",
      reason: `value starting on line ${this.segmentLine} is ${total} characters long, over the ${this.maxSegmentChars} limit (first ${OVERSIZE_KEEP_CHARS} kept)`,
      text: this.oversizePrefix,
      line: this.segmentLine,
    };
  }

  private errorSegment(reason: string, end = this.buf.length): Segment {
    if (this.oversize) return { ...this.oversizeSegment(end), reason };
    return {
      kind: "error",
      field: "json",
      reason,
      text: this.buf.slice(0, end),
      line: this.segmentLine,
    };
  }

  /** Leaves `pos` on the first character after the segment and returns to the enclosing mode. */
  private finishSegment(end: number): void {
    this.buf = this.buf.slice(end);
    this.pos = 0;
    this.nextNewline = -1;
    this.mode = this.inRootArray ? "array" : "top";
    this.depth = 0;
    this.inString = false;
    this.oversize = false;
    this.oversizePrefix = "";
    this.oversizeChars = 0;
  }
}

/** Splits a whole text at once. */
export function segmentText(text: string, options?: SegmenterOptions): Segment[] {
  const segmenter = new JsonSegmenter(options);
  return [...segmenter.push(text), ...segmenter.end()];
}
