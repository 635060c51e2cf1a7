/**
 * File-system side of the CLI: expanding paths (directories recursively, in a stable order),
 * checking they can be read before any work starts, and writing stdout with backpressure.
 */
import { constants, createReadStream } from "node:fs";
import { access, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "./errors";

/** `-` reads standard input. */
export const STDIN_PATH = "-";

/**
 * Expands paths into readable files: a directory contributes its files recursively, sorted by
 * name, hidden entries skipped. Throws `UsageError` naming the first missing or unreadable path.
 */
export async function expandInputPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path === STDIN_PATH) {
      files.push(path);
      continue;
    }
    await collect(path, files, true);
  }
  return files;
}

async function collect(path: string, files: string[], explicit: boolean): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
  if (info.isDirectory()) {
    let entries: string[];
    try {
      entries = await readdir(path);
    } catch (error) {
      throw new UsageError(`cannot read directory ${path}: ${describeFsError(error)}`, { cause: error });
    }
    for (const name of entries.sort()) {
      if (name.startsWith(".")) continue;
      await collect(join(path, name), files, false);
    }
    return;
  }
  if (!info.isFile()) {
    if (explicit) throw new UsageError(`cannot read ${path}: not a regular file or directory`);
    return;
  }
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
  files.push(path);
}

/** Opens a file (or stdin) as a byte stream. */
export function openInput(path: string): AsyncIterable<Uint8Array> {
  return path === STDIN_PATH ? process.stdin : createReadStream(path, { highWaterMark: 256 * 1024 });
}

/** Reads and parses a JSON configuration file, naming the file in any error. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${describeFsError(error)}`, { cause: error });
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new UsageError(`${what} ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Plain words for the usual file-system errors. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return (error as Error).message;
  }
}

/**
 * Buffered writer over a stream (stdout) that respects backpressure, so that pricing a multi-GB
 * input keeps memory flat even when the consumer of stdout is slow.
 */
export class LineWriter {
  private chunks: string[] = [];
  private size = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly flushAt = 256 * 1024,
  ) {}

  /** Queues one line (a newline is added); flushes when the buffer is full. */
  async write(line: string): Promise<void> {
    this.chunks.push(line, "\n");
    this.size += line.length + 1;
    if (this.size >= this.flushAt) await this.flush();
  }

  /** Writes what is buffered and waits for the stream to drain if it asked to. */
  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join("");
    this.chunks = [];
    this.size = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once("drain", () => resolve()));
  }
}
