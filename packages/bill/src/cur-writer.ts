/**
 * CUR 2.0 files from line items, laid out as AWS Data Exports delivers them:
 * `<dir>/BILLING_PERIOD=YYYY-MM/<name>-00001.snappy.parquet` (or `.csv.gz`). Parquet carries the
 * types AWS uses (timestamps, doubles for amounts and costs, `product` as a map of strings); gzip
 * CSV carries text, `product` as JSON. For synthetic bills in tests and benchmarks.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/**
 * What the writer needs of a line item (the shape `generateBill` of @bedrock-spend/traffic
 * returns): every other field is a text column written as it is, except `*_date` (timestamps),
 * `line_item_usage_amount`, `*_cost` and `*_rate` (doubles, as AWS writes them in Parquet).
 */
export interface CurLineItemInput {
  bill_billing_period_start_date: string;
  product: Readonly<Record<string, string>>;
}

/** Writes line items as CUR 2.0 files, one per billing period; returns the files written. */
export async function writeCurFiles<Item extends CurLineItemInput>(
  items: readonly Item[],
  dir: string,
  options: { format: "parquet" | "csv.gz"; name?: string },
): Promise<string[]> {
  const byPeriod = new Map<string, Item[]>();
  for (const item of items) {
    const period = item.bill_billing_period_start_date.slice(0, 7);
    const lines = byPeriod.get(period);
    if (lines) lines.push(item);
    else byPeriod.set(period, [item]);
  }
  const scratch = await mkdtemp(join(tmpdir(), "bedrock-spend-cur-"));
  const instance = await DuckDBInstance.create(":memory:", { autoinstall_known_extensions: "false" });
  const connection = await instance.connect();
  const written: string[] = [];
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const [period, lines] of [...byPeriod].sort()) {
      const input = join(scratch, `${period}.json`);
      const columns = Object.keys(lines[0] as Item).filter((name) => name !== "product");
      await writeFile(input, lines.map((line) => JSON.stringify({ ...line, product: JSON.stringify(line.product) })).join("\n"));
      const partition = join(dir, `BILLING_PERIOD=${period}`);
      await mkdir(partition, { recursive: true });
      const file = join(partition, `${options.name ?? "bedrock-spend-synthetic"}-00001.${options.format === "parquet" ? "snappy.parquet" : "csv.gz"}`);
      const json = `read_json('${input}', format = 'newline_delimited', columns = {${[...columns, "product"].map((name) => `'${name}': 'VARCHAR'`).join(", ")}})`;
      const typed = (name: string) => {
        if (name.endsWith("_date")) return `CAST(replace(replace(${name}, 'T', ' '), 'Z', '') AS TIMESTAMP) AS ${name}`;
        // CUR 2.0 types: amounts and costs are doubles, rates strings (they may be blank).
        if (name === "line_item_usage_amount" || name.endsWith("_cost")) return `TRY_CAST(${name} AS DOUBLE) AS ${name}`;
        return name;
      };
      const select =
        options.format === "parquet"
          ? `${columns.map(typed).join(", ")}, CAST(json_transform(product, '"MAP(VARCHAR, VARCHAR)"') AS MAP(VARCHAR, VARCHAR)) AS product`
          : `${columns.join(", ")}, product`;
      await connection.run(
        `COPY (SELECT ${select} FROM ${json}) TO '${file}' (${options.format === "parquet" ? "FORMAT parquet, COMPRESSION snappy" : "FORMAT csv, HEADER true, COMPRESSION gzip"})`,
      );
      written.push(file);
    }
    return written;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(scratch, { recursive: true, force: true });
  }
}
