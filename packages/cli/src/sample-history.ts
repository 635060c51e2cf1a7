/**
 * `start`'s sample history on an empty data dir: the traffic generator's invocations of the last
 * `SAMPLE_HISTORY_DAYS` days (ending at the stack's clock), through the real pipeline, then budgets
 * for the sample tenants that spent most this month, and the marker that says it is sample data
 * (`--no-history` skips all of it). The pipeline part is local mode's (`seedSampleHistory`).
 */
import {
  type LocalStack,
  SAMPLE_DATA_HINT,
  SAMPLE_HISTORY_DAYS,
  SAMPLE_RECORDS_PER_DAY,
  type SampleChunk,
  type SampleDataMarker,
  type SeedProgress,
  seedSampleHistory,
  setSampleBudgets,
  writeSampleMarker,
} from "@bedrock-spend/local-mode";
import { generateTraffic, gzipStable, type TrafficItem, toSubscriptionPayloads } from "@bedrock-spend/traffic";

const DAY_MS = 86_400_000;

/** Options of the sample history. */
export interface SampleHistoryOptions {
  dataDir: string;
  tenants: number;
  /** The live traffic's seed: the history uses its own, derived from it, so that no request id repeats. */
  seed: string;
  tenantProfiles: Record<string, string>;
  days?: number;
  perDay?: number;
  onProgress?: (progress: SeedProgress) => void;
}

/** The sample history's items: `days` x `perDay` invocations evenly spread, the last one just before `now`. */
export function sampleHistoryItems(options: {
  now: number;
  days: number;
  perDay: number;
  tenants: number;
  seed: string;
  tenantProfiles: Record<string, string>;
}) {
  const count = options.days * options.perDay;
  return generateTraffic({
    seed: `${options.seed}/history`,
    count,
    tenants: options.tenants,
    ratePerSecond: options.perDay / 86_400,
    start: options.now - options.days * DAY_MS,
    tenantProfiles: options.tenantProfiles,
  });
}

/** Chunks of subscription payloads (about a day each) and the tenants of their records. */
function* chunksOf(items: Iterable<TrafficItem>, perChunk: number, tenants: Map<string, number>): Generator<SampleChunk> {
  let batch: TrafficItem[] = [];
  let sequence = 0;
  const flush = (): SampleChunk => {
    const payloads = [...toSubscriptionPayloads(batch, { firstSequence: sequence })].map((payload) => gzipStable(JSON.stringify(payload)));
    sequence += batch.length;
    const records = batch.filter((item) => item.kind === "record").length;
    batch = [];
    return { payloads, records };
  };
  for (const item of items) {
    if (item.kind === "record") {
      const tenantId = item.record.requestMetadata?.tenantId;
      if (tenantId !== undefined) tenants.set(tenantId, (tenants.get(tenantId) ?? 0) + 1);
    }
    batch.push(item);
    if (batch.length >= perChunk) yield flush();
  }
  if (batch.length > 0) yield flush();
}

/** Seeds the history, sets the sample budgets and writes the marker. Call before `stack.loop()`. */
export async function seedStartHistory(stack: LocalStack, options: SampleHistoryOptions): Promise<SampleDataMarker & { seconds: number }> {
  const days = options.days ?? SAMPLE_HISTORY_DAYS;
  const perDay = options.perDay ?? SAMPLE_RECORDS_PER_DAY;
  const now = stack.clock();
  const items = [...sampleHistoryItems({ now, days, perDay, tenants: options.tenants, seed: options.seed, tenantProfiles: options.tenantProfiles })];
  const total = items.filter((item) => item.kind === "record").length;
  const marker: SampleDataMarker = {
    sample: true,
    complete: false,
    seededAt: new Date(now).toISOString(),
    from: new Date(now - days * DAY_MS).toISOString(),
    to: new Date(now).toISOString(),
    days,
    records: total,
    tenants: options.tenants,
    seed: `${options.seed}/history`,
    budgets: [],
    hint: SAMPLE_DATA_HINT,
  };
  // Written first: an interrupted seeding still marks its data as sample data.
  await writeSampleMarker(options.dataDir, marker);
  const tenants = new Map<string, number>();
  const result = await seedSampleHistory(stack, chunksOf(items, perDay, tenants), {
    total,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const busiest = [...tenants.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([tenantId]) => tenantId);
  marker.budgets = await setSampleBudgets(stack, busiest.slice(0, 10));
  marker.complete = true;
  await writeSampleMarker(options.dataDir, marker);
  return { ...marker, seconds: result.seconds };
}
