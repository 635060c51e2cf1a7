/**
 * What the commands that read the AWS bill share (`reconcile`, `prices suggest`): list options,
 * the usage-type map with the user's file laid over it, and the bill read with its errors as usage
 * errors.
 */
import { type CurRead, CurReadError, type ReadCurOptions, readCur } from "@bedrock-spend/bill";
import { parseUsageTypeMap, type UsageTypeMap, UsageTypeMapError, usageTypeMap } from "@bedrock-spend/core";
import { UsageError } from "./errors";
import { readJsonFile } from "./io";

/**
 * `--cur a b --logs c` as parseArgs reads repeated options: every word after one of `names` up
 * to the next option is one of its values.
 */
export function expandListOptions(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  let current: string | null = null;
  let values = 0;
  for (const word of argv) {
    if (word.startsWith("-") && word !== "-") {
      // A list option left without a value: parseArgs says so.
      if (current !== null && values === 0) out.push(current);
      current = names.includes(word) ? word : null;
      values = 0;
      if (current === null) out.push(word);
      continue;
    }
    if (current !== null) {
      out.push(current, word);
      values++;
    } else out.push(word);
  }
  if (current !== null && values === 0) out.push(current);
  return out;
}

/** The shipped usage-type map, with `file` laid over it. @throws UsageError naming the file and entry */
export async function usageTypeMapOf(file: string | undefined): Promise<UsageTypeMap> {
  if (file === undefined) return usageTypeMap();
  try {
    return usageTypeMap(parseUsageTypeMap(await readJsonFile(file, "usage-type map"), file));
  } catch (error) {
    if (error instanceof UsageTypeMapError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** `readCur`, an unreadable export being a usage error (exit 2) as for every command's inputs. */
export async function readBill(paths: readonly string[], options: ReadCurOptions = {}): Promise<CurRead> {
  try {
    return await readCur(paths, options);
  } catch (error) {
    if (error instanceof CurReadError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
