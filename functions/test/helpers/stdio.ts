import { vi } from "vitest";

/**
 * Captures what is written to stdout and stderr (Powertools prints info and EMF documents to
 * stdout, warnings to stderr) into the returned array, until `vi.restoreAllMocks()`.
 */
export function captureStdio(): string[] {
  const output: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  }
  return output;
}
