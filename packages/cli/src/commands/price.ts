/**
 * `bedrock-spend price <path>...`: prices invocation logs and prints one JSON line per invocation,
 * in input order, with a summary on stderr.
 */
import {
  type DecodedItem,
  decodeStream,
  escapeControlChars,
  formatSource,
  formatUsd,
  type InvalidOutcome,
  preparedPriceItems,
  toPriceLine,
} from "@bedrock-spend/core";
import { parseCommandArgs, priceFileOf } from "../args";
import { loadPricer } from "../config";
import { strictVerdict, UsageError } from "../errors";
import { expandInputPaths, LineWriter, openInput } from "../io";

export const PRICE_HELP = `Usage: bedrock-spend price <path>... [options]

Reads Bedrock invocation logs and prints one JSON line per invocation to stdout, in input order,
with a summary on stderr. Directories are read recursively; "-" reads standard input.

Accepted inputs (plain or gzip, detected by content): JSON Lines of invocation log records
(Bedrock's S3 delivery), CloudWatch Logs subscription payloads (raw JSON or base64), output of
"aws logs filter-log-events" / "get-log-events", a single record, or a JSON array of records.

Options:
  --prices FILE     price file laid over the shipped catalog (USD per million tokens): its
                    entries win at the dates they cover
  --prices-only FILE  price file used as the whole catalog instead of the shipped one
  --profiles FILE   application-inference-profile map: {"<arn>": {"model": "...", "pricingProfile": "us"}}
  --aliases FILE    metadata key aliases: {"tenantId": ["acct", "tenant"], ...}
  --profile-tags FILE  tag keys of application inference profiles (the map's "tags") per
                    dimension: {"tenantId": ["tenant", "customer"], "departmentId": ["cost-center"]}
  --max-warnings N  invalid records described on stderr (default 20)
  --strict          exit 3 when any record was invalid or unpriced (after printing everything)
  --json            print the summary on stderr as one JSON object
  -h, --help        show this help

Exit status: 0 when the input was processed (even with invalid records), 2 for usage errors and
unreadable inputs, 3 with --strict when records were invalid or unpriced.`;

/** Items priced at a time, at most, and their raw characters, at most. */
const CHUNK_ITEMS = 512;
const CHUNK_CHARS = 8 * 1024 * 1024;

/** Counts of one run; read = priced + unpriced + invalid + skipped. */
export interface PriceSummary {
  files: number;
  read: number;
  priced: number;
  unpriced: number;
  invalid: number;
  skipped: number;
  skippedBy: { "control-message": number; "permissions-line": number };
  costUsd: string;
  priceVersion: string;
}

export async function priceCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      profiles: { type: "string" },
      aliases: { type: "string" },
      "profile-tags": { type: "string" },
      "max-warnings": { type: "string" },
      strict: { type: "boolean" },
    },
    PRICE_HELP,
  );
  if (values.help) {
    process.stdout.write(`${PRICE_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("price: no input paths given", { help: PRICE_HELP });
  const maxWarnings = values["max-warnings"] === undefined ? 20 : Number(values["max-warnings"]);
  if (!Number.isInteger(maxWarnings) || maxWarnings < 0) throw new UsageError(`--max-warnings must be a non-negative integer, got "${values["max-warnings"]}"`);

  const pricer = await loadPricer({
    ...priceFileOf(values),
    profiles: values.profiles,
    aliases: values.aliases,
    profileTags: values["profile-tags"],
  });
  const files = await expandInputPaths(positionals);
  const out = new LineWriter(process.stdout);
  const summary: PriceSummary = {
    files: files.length,
    read: 0,
    priced: 0,
    unpriced: 0,
    invalid: 0,
    skipped: 0,
    skippedBy: { "control-message": 0, "permissions-line": 0 },
    costUsd: "0",
    priceVersion: pricer.catalog.version,
  };
  let totalPico = 0n;
  let warned = 0;
  const warn = (outcome: InvalidOutcome) => {
    if (warned++ < maxWarnings) process.stderr.write(`${escapeControlChars(`warning: ${formatSource(outcome.source)}: invalid record: ${outcome.reason}`)}\n`);
  };

  // Items are priced a chunk at a time: flat memory on any input, lines in input order.
  let chunk: DecodedItem[] = [];
  let chunkChars = 0;
  const flush = async () => {
    const priced = await preparedPriceItems(chunk, pricer);
    summary.read += chunk.length;
    chunk = [];
    chunkChars = 0;
    summary.skipped += priced.skipped;
    for (const reason of Object.keys(priced.skippedBy) as (keyof typeof priced.skippedBy)[]) summary.skippedBy[reason] += priced.skippedBy[reason];
    summary.invalid += priced.invalid.length;
    priced.invalid.forEach(warn);
    for (const { usage } of priced.usage) {
      if (usage.costPico === null) summary.unpriced++;
      else {
        summary.priced++;
        totalPico += usage.costPico;
      }
    }
    for (const outcome of priced.ordered) await out.write(JSON.stringify(toPriceLine(outcome)));
  };
  for (const file of files) {
    const label = file === "-" ? "<stdin>" : file;
    for await (const item of decodeStream(openInput(file), { file: label })) {
      chunk.push(item);
      chunkChars += item.raw.length;
      if (chunk.length >= CHUNK_ITEMS || chunkChars >= CHUNK_CHARS) await flush();
    }
    await flush();
  }
  await out.flush();
  summary.costUsd = formatUsd(totalPico);
  if (warned > maxWarnings) process.stderr.write(`warning: ... ${warned - maxWarnings} more invalid records not described\n`);
  process.stderr.write(values.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return values.strict ? strictVerdict(summary, values.json === true) : 0;
}

/** The human summary: the four outcomes add up to the records read. */
export function formatSummary(summary: PriceSummary): string {
  const skippedDetail = `${summary.skippedBy["control-message"]} control message${summary.skippedBy["control-message"] === 1 ? "" : "s"}, ${summary.skippedBy["permissions-line"]} permissions line${summary.skippedBy["permissions-line"] === 1 ? "" : "s"}`;
  return (
    `read ${summary.read} records from ${summary.files} file${summary.files === 1 ? "" : "s"}: ` +
    `${summary.priced} priced, ${summary.unpriced} unpriced, ${summary.invalid} invalid, ${summary.skipped} skipped (${skippedDetail})\n` +
    `cost of priced records: ${summary.costUsd} USD (price catalog ${summary.priceVersion})\n`
  );
}
