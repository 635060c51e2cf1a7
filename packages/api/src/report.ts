/**
 * Spend across tenants (`GET /v1/spend`): groups summed exactly (bigint pico-dollars), ranked by
 * cost (highest first, ties by key in code-unit order) and paged with an opaque cursor. Where each
 * report reads from, and how fresh that is, is `readReport`'s to say (docs/aggregates-table.md).
 *
 * The cursor is base64url of a versioned JSON object naming the query (groupBy, period) and the
 * last group sent (its cost and key). The next page is the groups strictly after that position in
 * the (cost desc, key asc) order, a total order, so a page neither repeats nor skips a group while
 * the period's spend does not change. The API holds no state between pages.
 */
import {
  type AttributionDimension,
  addCounters,
  byCodeUnit,
  emptyCounters,
  mapLimited,
  spendTotals,
  type UsageCounters,
  utcDaysBetween,
} from "@bedrock-spend/core";
import { type PeriodItem, type PeriodSelector, rankBucket } from "@bedrock-spend/store";
import * as z from "zod/mini";
import { ApiError, badRequest } from "./http";
import type { ReportLake } from "./report-lake";
import { REPORT_GROUP_BY, type ReportGroupBy } from "./schemas";
import type { SpendApiStore } from "./service";
import type { ReportQuery } from "./validation";

/** The breakdown dimension each groupBy (and `by`) reads. */
export const DIMENSION_OF: Readonly<Record<"tenantGroup" | "department" | "application" | "user", AttributionDimension>> = {
  tenantGroup: "tenantGroup",
  department: "departmentId",
  application: "applicationId",
  user: "userId",
};

/** One group of the report. */
export interface ReportGroup extends ReturnType<typeof spendTotals> {
  key: string;
}

/** A page of the report. */
export interface Report {
  period: string;
  groupBy: ReportGroupBy;
  groups: ReportGroup[];
  nextCursor: string | null;
  asOf: string | null;
}

const CURSOR_VERSION = 1;

const CursorSchema = z.strictObject({
  v: z.literal(CURSOR_VERSION),
  g: z.enum(REPORT_GROUP_BY),
  p: z.string().check(z.maxLength(32)),
  c: z.string().check(z.regex(/^(0|[1-9][0-9]{0,39})$/)),
  k: z.string().check(z.maxLength(1024)),
});
type Cursor = z.infer<typeof CursorSchema>;

/** The opaque cursor after a group. */
export function encodeCursor(cursor: Omit<Cursor, "v">): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, ...cursor }), "utf8").toString("base64url");
}

/** Reads a cursor back; a 400 for anything this API did not issue for this query. */
export function decodeCursor(raw: string, query: Pick<ReportQuery, "groupBy" | "period">): { costPico: bigint; key: string } {
  const invalid = () => badRequest("cursor", "the cursor is not one this API issued: pass nextCursor as it was");
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  const result = CursorSchema.safeParse(parsed);
  // base64url has one encoding per byte string only without padding bits: re-encoding must give the same text.
  if (!result.success || encodeCursor({ g: result.data.g, p: result.data.p, c: result.data.c, k: result.data.k }) !== raw) throw invalid();
  if (result.data.g !== query.groupBy || result.data.p !== query.period) {
    throw badRequest("cursor", `the cursor belongs to groupBy=${result.data.g} over ${result.data.p}, not groupBy=${query.groupBy} over ${query.period}`);
  }
  return { costPico: BigInt(result.data.c), key: result.data.k };
}

/** The months of [from, to] it covers whole, and its remaining days. */
export function segmentsOf(from: string, to: string): { months: string[]; days: string[] } {
  const months: string[] = [];
  const days: string[] = [];
  let month = from.slice(0, 7);
  while (month <= to.slice(0, 7)) {
    const [year, monthNumber] = month.split("-").map(Number) as [number, number];
    const first = `${month}-01`;
    const last = lastDay(month);
    if (from <= first && last <= to) months.push(month);
    else for (const day of utcDaysBetween(first > from ? first : from, last < to ? last : to)) days.push(day);
    month = new Date(Date.UTC(year, monthNumber, 1)).toISOString().slice(0, 7);
  }
  return { months, days };
}

/** The index partitions (period and selector) a report by a breakdown dimension reads. */
function readsOf(
  query: ReportQuery,
  { months, days }: { months: string[]; days: string[] },
  breakdowns: readonly AttributionDimension[] | undefined,
): { period: string; selector: PeriodSelector }[] {
  const dimension = DIMENSION_OF[query.groupBy as keyof typeof DIMENSION_OF];
  if (breakdowns !== undefined && !breakdowns.includes(dimension)) {
    throw badRequest("groupBy", `this deployment keeps no breakdown by ${dimension} (AGGREGATE_BREAKDOWNS lists ${breakdowns.join(", ") || "none"})`, [
      "tenant",
      "model",
      ...REPORT_GROUP_BY.filter((group) => group !== "tenant" && group !== "model" && breakdowns.includes(DIMENSION_OF[group])),
    ]);
  }
  if (days.length > 0) {
    throw badRequest(
      query.from === `${query.to.slice(0, 7)}-01` ? "to" : "from",
      `groupBy=${query.groupBy} reads the monthly breakdowns: give whole months (month=YYYY-MM, or from=YYYY-MM&to=YYYY-MM)`,
    );
  }
  return months.map((period) => ({ period, selector: { kind: "breakdown", dimension } as const }));
}

function lastDay(month: string): string {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  return `${month}-${String(new Date(Date.UTC(year, monthNumber, 0)).getUTCDate()).padStart(2, "0")}`;
}

/** Whether an error says the table lacks the by-period index (a table deployed before it). */
function isMissingIndex(error: unknown): boolean {
  return (error as Error)?.name === "ValidationException" && /index/i.test((error as Error).message ?? "");
}

/** Where a report reads what it ranks, besides the aggregates. */
export interface ReportSources {
  /** The breakdown dimensions the aggregator writes, when known (see `SpendApiDeps.breakdowns`). */
  breakdowns?: readonly AttributionDimension[] | undefined;
  /** The lake, for spend by model and a tenant ranking over days or several months. */
  lake?: ReportLake | undefined;
}

/** Sums by group and the newest update among them. */
interface Sums {
  sums: Map<string, UsageCounters>;
  asOf: string | null;
}

/**
 * A page of the cross-tenant report. Three sources, by what is asked:
 * - a tenant ranking of one month: the month's rank entries and the exact totals of the buckets
 *   the page needs (store/src/rank.ts), so a page reads about `limit` totals, not every tenant;
 * - tenant groups, departments, applications or users over whole months: their breakdown items,
 *   from the by-period index;
 * - spend by model, and a tenant ranking over days or several months: the lake (report-lake.ts),
 *   and so is a month whose entries may be incomplete (it began before the stream consumer's rank
 *   marker, and was not synced: `TenantRanking.complete`).
 */
export async function readReport(store: SpendApiStore, query: ReportQuery, sources: ReportSources = {}): Promise<Report> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query);
  const { months, days } = segmentsOf(query.from, query.to);
  let read: Sums;
  const month = months[0];
  if (query.groupBy === "tenant" && months.length === 1 && days.length === 0 && month !== undefined && (await store.rankComplete(month))) {
    read = await rankedSums(store, month, query.limit + 1, after);
  } else if (query.groupBy === "tenant" || query.groupBy === "model") {
    read = await lakeSums(query, sources);
  } else {
    read = await indexSums(store, readsOf(query, { months, days }, sources.breakdowns));
  }
  const ranked = [...read.sums.entries()].sort(([keyA, a], [keyB, b]) =>
    a.costPico === b.costPico ? byCodeUnit(keyA, keyB) : a.costPico > b.costPico ? -1 : 1,
  );
  const rest =
    after === undefined
      ? ranked
      : ranked.filter(([key, sum]) => sum.costPico < after.costPico || (sum.costPico === after.costPico && byCodeUnit(key, after.key) > 0));
  const page = rest.slice(0, query.limit);
  const last = page.at(-1);
  return {
    period: query.period,
    groupBy: query.groupBy,
    groups: page.map(([key, sum]) => ({ key, ...spendTotals(sum) })),
    nextCursor: rest.length > query.limit && last ? encodeCursor({ g: query.groupBy, p: query.period, c: last[1].costPico.toString(), k: last[0] }) : null,
    asOf: read.asOf,
  };
}

/** The month totals of the rank buckets that hold the `enough` costliest tenants after the cursor. */
async function rankedSums(store: SpendApiStore, month: string, enough: number, after: { costPico: bigint } | undefined): Promise<Sums> {
  const { tenantIds } = await store.rankCandidates(month, enough, after === undefined ? undefined : rankBucket(after.costPico));
  const sums = new Map<string, UsageCounters>();
  let newest: number | undefined;
  for (const total of await store.rankedTotals(month, tenantIds)) {
    sums.set(total.tenantId, total.counters);
    if (total.updatedAt !== undefined && (newest === undefined || total.updatedAt > newest)) newest = total.updatedAt;
  }
  return { sums, asOf: newest === undefined ? null : isoSeconds(newest) };
}

/** The lake's sums of the period by group. */
async function lakeSums(query: ReportQuery, sources: ReportSources): Promise<Sums> {
  if (!sources.lake) throw new ApiError("ServiceUnavailable", `groupBy=${query.groupBy} over ${query.period} reads the lake, and this API has none configured`);
  const { groups, asOf } = await sources.lake(query.groupBy, query.from, query.to);
  return { sums: groups, asOf };
}

/** The breakdown items of whole months, from the by-period index. */
async function indexSums(store: SpendApiStore, reads: readonly { period: string; selector: PeriodSelector }[]): Promise<Sums> {
  let pages: PeriodItem[][];
  try {
    pages = await mapLimited(reads, 8, ({ period, selector }) => store.periodItems(period, selector));
  } catch (error) {
    if (isMissingIndex(error))
      throw new ApiError("ServiceUnavailable", "the aggregates table has no by-period index yet; deploy the current stack", { cause: error });
    throw error;
  }
  const sums = new Map<string, UsageCounters>();
  let newest: number | undefined;
  for (const item of pages.flat()) {
    if (item.key === undefined) continue;
    sums.set(item.key, addCounters(sums.get(item.key) ?? emptyCounters(), item.counters));
    if (item.updatedAt !== undefined && (newest === undefined || item.updatedAt > newest)) newest = item.updatedAt;
  }
  return { sums, asOf: newest === undefined ? null : isoSeconds(newest) };
}

/** Epoch seconds as ISO 8601 UTC without fractional seconds. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
