/**
 * CUR 2.0 exports read by DuckDB: the Bedrock line items of one or more files, or of directories
 * of `BILLING_PERIOD=YYYY-MM/` partitions as AWS Data Exports writes them, summed by day, usage
 * type, product, billing entity, line item type and pricing unit. Parquet exports carry `product`
 * as a map; gzip CSV exports carry it as JSON text. Money and usage amounts are summed as
 * decimals (the Parquet doubles cast to decimal first, the CSV text cast exactly).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  BEDROCK_PRODUCT_CODES,
  BedrockSpendError,
  type BillGroup,
  type DayKey,
  MARKETPLACE_EDITION,
  parseSignedDecimal,
  REQUIRED_CUR_COLUMNS,
} from "@bedrock-spend/core";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

/** A CUR export that cannot be read. */
export class CurReadError extends BedrockSpendError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.name = "CurReadError";
    this.path = path;
  }
}

/** Options of `readCur`. */
export interface ReadCurOptions {
  /** First and last UTC day of usage kept (inclusive). */
  from?: DayKey;
  to?: DayKey;
  /** DuckDB worker threads. Default DuckDB's. */
  threads?: number;
}

/** What `readCur` read. */
export interface CurRead {
  groups: BillGroup[];
  /** Files read, by format. */
  files: { parquet: string[]; csv: string[] };
  /** Line items read (Bedrock's, in the day range). */
  lineItems: number;
}

/**
 * Reads the Bedrock line items of CUR 2.0 files and directories (searched recursively for
 * `.parquet`, `.csv.gz` and `.csv` files).
 * @throws CurReadError naming the path: missing, no CUR file in it, a required column missing
 */
export async function readCur(paths: readonly string[], options: ReadCurOptions = {}): Promise<CurRead> {
  const files = { parquet: [] as string[], csv: [] as string[] };
  for (const path of paths) await collect(path, files);
  if (files.parquet.length + files.csv.length === 0) throw new CurReadError(paths.join(", "), "no CUR file (.parquet, .csv.gz, .csv) found");
  const config: Record<string, string> = { autoinstall_known_extensions: "false" };
  if (options.threads !== undefined) config.threads = String(options.threads);
  const instance = await DuckDBInstance.create(":memory:", config);
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const sources: string[] = [];
    if (files.parquet.length > 0) sources.push(await linesOf(connection, "parquet", files.parquet));
    if (files.csv.length > 0) sources.push(await linesOf(connection, "csv", files.csv));
    const range = [
      options.from ? `day >= DATE ${sqlString(options.from)}` : null,
      options.to ? `day <= DATE ${sqlString(options.to)}` : null,
      `(product_code IN (${BEDROCK_PRODUCT_CODES.map(sqlString).join(", ")}) OR product_name LIKE ${sqlString(`%${MARKETPLACE_EDITION}%`)})`,
    ].filter((part) => part !== null);
    const reader = await connection.runAndReadAll(
      `SELECT strftime(day, '%Y-%m-%d') AS day, usage_type, product_code, product_name, billing_entity, line_item_type, pricing_unit,
         CAST(sum(amount) AS VARCHAR) AS amount, CAST(sum(cost) AS VARCHAR) AS cost, CAST(sum(net) AS VARCHAR) AS net,
         list(DISTINCT rate ORDER BY rate) FILTER (WHERE rate IS NOT NULL) AS rates, max(hour) AS last_hour, count(*)::BIGINT AS line_items
       FROM (${sources.join(" UNION ALL ")}) WHERE ${range.join(" AND ")}
       GROUP BY ALL ORDER BY ALL`,
    );
    let lineItems = 0;
    const groups = reader.getRowObjectsJson().map((row): BillGroup => {
      lineItems += Number(row.line_items);
      return {
        day: String(row.day),
        usageType: String(row.usage_type ?? ""),
        productCode: String(row.product_code ?? ""),
        productName: row.product_name === null ? null : String(row.product_name),
        billingEntity: row.billing_entity === null ? null : String(row.billing_entity),
        lineItemType: String(row.line_item_type ?? ""),
        pricingUnit: row.pricing_unit === null ? null : String(row.pricing_unit),
        usageAmount: String(row.amount ?? "0"),
        unblendedCostPico: parseSignedDecimal(String(row.cost ?? "0"), 12),
        netCostPico: parseSignedDecimal(String(row.net ?? "0"), 12),
        rates: Array.isArray(row.rates) ? row.rates.map(String) : [],
        lastHour: Number(row.last_hour ?? 0),
      };
    });
    return { groups, files, lineItems };
  } catch (error) {
    if (error instanceof CurReadError) throw error;
    throw new CurReadError(paths.join(", "), `DuckDB could not read the export: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function collect(path: string, files: { parquet: string[]; csv: string[] }): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new CurReadError(path, "no such file or directory", { cause: error });
  }
  if (info.isDirectory()) {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    for (const entry of entries.sort((a, b) => (join(a.parentPath, a.name) < join(b.parentPath, b.name) ? -1 : 1)))
      if (entry.isFile()) add(join(entry.parentPath, entry.name), files);
    return;
  }
  if (!add(path, files)) throw new CurReadError(path, "not a CUR file: expected .parquet, .csv.gz or .csv");
}

/** Files a directory holds that are not CUR data (manifests, metadata) are skipped; a file named on the command line must be one. */
function add(path: string, files: { parquet: string[]; csv: string[] }): boolean {
  if (path.endsWith(".parquet") || path.endsWith(".snappy.parquet")) files.parquet.push(path);
  else if (path.endsWith(".csv.gz") || path.endsWith(".csv")) files.csv.push(path);
  else return false;
  return true;
}

/** The line items of some files as one SELECT with the columns the aggregation reads, after checking the columns exist. */
async function linesOf(connection: DuckDBConnection, format: "parquet" | "csv", files: readonly string[]): Promise<string> {
  const list = `[${files.map(sqlString).join(", ")}]`;
  const source =
    format === "parquet"
      ? `read_parquet(${list}, union_by_name = true, hive_partitioning = false)`
      : `read_csv(${list}, header = true, all_varchar = true, union_by_name = true, compression = 'auto')`;
  const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const columns = new Map(described.getRowObjectsJson().map((row) => [String(row.column_name), String(row.column_type)]));
  const missing = REQUIRED_CUR_COLUMNS.filter((name) => !columns.has(name));
  if (missing.length > 0) throw new CurReadError(files[0] as string, `not a CUR 2.0 export: no column ${missing.join(", ")}`);
  const text = (name: string) => (columns.has(name) ? `CAST(${name} AS VARCHAR)` : "NULL");
  const productType = columns.get("product") ?? "";
  const productName = !columns.has("product")
    ? columns.has("product_product_name")
      ? "product_product_name"
      : "NULL"
    : productType.startsWith("MAP")
      ? `product['product_name']`
      : `json_extract_string(CAST(product AS VARCHAR), '$.product_name')`;
  // CSV text is cast to decimal exactly; a Parquet double is cast to the nearest decimal of its scale.
  // Rates are strings in CUR 2.0 (blank on credits and tax): a blank or unreadable one is no rate.
  const decimal = (name: string, scale: number) => `CAST(${name} AS DECIMAL(38,${scale}))`;
  const start = columns.get("line_item_usage_start_date")?.startsWith("TIMESTAMP")
    ? "line_item_usage_start_date"
    : `CAST(replace(replace(line_item_usage_start_date, 'T', ' '), 'Z', '') AS TIMESTAMP)`;
  return `SELECT CAST(${start} AS DATE) AS day, hour(${start}) AS hour, line_item_usage_type AS usage_type, line_item_product_code AS product_code,
      ${productName} AS product_name, ${text("bill_billing_entity")} AS billing_entity, line_item_line_item_type AS line_item_type, ${text("pricing_unit")} AS pricing_unit,
      ${decimal("line_item_usage_amount", 9)} AS amount, ${decimal("line_item_unblended_cost", 12)} AS cost,
      ${columns.has("line_item_net_unblended_cost") ? `coalesce(${decimal("line_item_net_unblended_cost", 12)}, ${decimal("line_item_unblended_cost", 12)})` : decimal("line_item_unblended_cost", 12)} AS net,
      ${columns.has("line_item_unblended_rate") ? `rtrim(rtrim(CAST(TRY_CAST(NULLIF(trim(CAST(line_item_unblended_rate AS VARCHAR)), '') AS DECIMAL(38,12)) AS VARCHAR), '0'), '.')` : "NULL"} AS rate
    FROM ${source}`;
}

function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
