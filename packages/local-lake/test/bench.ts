/**
 * Lake speeds, for the record (not a test): `npx tsx packages/local-lake/test/bench.ts [records]`.
 * Prints write rows/s by batch size, and query times over the written lake.
 */
import { DuckDbLakeWriter, LocalAthena } from "../src/index";
import { tempLake, usageRecords } from "./helpers";

const total = Number(process.argv[2] ?? 50_000);
const started = performance.now();
const records = usageRecords({ seed: "bench", count: total + Math.ceil(total / 100), start: "2026-11-29T22:00:00Z", ratePerSecond: 5 }).slice(0, total);
console.log(`generated ${records.length} usage records in ${(performance.now() - started).toFixed(0)} ms`);

const lake = await tempLake();
try {
  const writer = await DuckDbLakeWriter.open({ lakeDir: lake.dir });
  for (const batch of [500, 5_000, total]) {
    const rounds = Math.max(1, Math.min(20, Math.floor(total / batch)));
    const t0 = performance.now();
    for (let round = 0; round < rounds; round++) await writer.write(records.slice((round * batch) % total, ((round * batch) % total) + batch));
    const ms = performance.now() - t0;
    console.log(`write: batch ${batch} x ${rounds}: ${Math.round((rounds * batch * 1000) / ms)} rows/s, ${(ms / rounds).toFixed(1)} ms per batch`);
  }
  await writer.close();

  const athena = await LocalAthena.open({ lakeDir: lake.dir });
  const time = async (label: string, sql: string) => {
    const t0 = performance.now();
    const result = await athena.query(sql);
    const ms = performance.now() - t0;
    console.log(`query: ${label}: ${result.rows.length} rows in ${ms.toFixed(0)} ms`);
  };
  const { rows } = await athena.query("SELECT count(*) AS n FROM invocations");
  console.log(`lake holds ${String(rows[0]?.n)} rows`);
  await time("sum(cost_usd), count(*)", "SELECT sum(cost_usd) AS cost, count(*) AS n FROM invocations");
  await time("token_usage_by_company", "SELECT * FROM token_usage_by_company");
  await time("usage_daily", "SELECT * FROM usage_daily");
  await time("one tenant, one month", "SELECT * FROM spend_by_tenant_month WHERE period = '2026-11' ORDER BY cost_usd DESC LIMIT 10");
  const t0 = performance.now();
  const all = await athena.query("SELECT * FROM invocations");
  const ms = performance.now() - t0;
  console.log(
    `query: SELECT * (all columns to JSON-safe rows): ${all.rows.length} rows in ${ms.toFixed(0)} ms, ${Math.round((all.rows.length * 1000) / ms)} rows/s`,
  );
  await athena.close();
} finally {
  await lake.remove();
}
