/**
 * `bedrock-spend ranks status|sync`: the rank entries a report ranks a month's tenants from. A
 * month that began before the table's stream consumer of this version first ran (a stage upgraded
 * mid-month) is ranked from the lake until `sync` has put every total of the month in place.
 */
import { isMonthKey } from "@bedrock-spend/core";
import { AggregatesStore, RankSyncError } from "@bedrock-spend/store";
import { parseCommandArgs } from "../args";
import { clockFromEnv } from "../clock";
import { STAGE_OPTIONS, stageOf } from "../deployment";
import { CommandFailure, UsageError } from "../errors";
import { dataDirOf, LOCAL_OPTIONS_HELP, localCommand, waitNotice } from "../local";
import { openLocalTable } from "../local-mode";
import { readStageTable } from "../stage-table";

export const RANKS_HELP = `Usage: bedrock-spend ranks status [--month YYYY-MM] [options]
       bedrock-spend ranks sync --month YYYY-MM [options]

A report of one month's tenants ("report --group-by tenant", GET /v1/spend?month=) reads the
month's rank entries, which the table's stream consumer keeps as the totals change. It writes a
marker the first time it runs: months that began after it are complete. A month that began
before it (a stage upgraded mid-month) has entries only for the tenants counted since, so the
report reads that month from the lake instead, until "ranks sync" lists every total of it.

status  since when the entries follow every change, and whether --month (default: the current
        month) is complete
sync    scans the table for the month's totals, puts each one's entry where its cost calls for,
        and records the month as complete. Run it once after the consumer has written its marker.
        It reads the whole table (a parallel Scan of 4 segments); a stage needs
        dynamodb:Scan, GetItem, PutItem, UpdateItem and DeleteItem on the table

Options:
  --month YYYY-MM   the month (UTC)
  --stage NAME      the deployed stage NAME instead: its table
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}`;

/** What `ranks status --json` prints. */
export interface RanksStatus {
  /** Since when the entries follow every change (ISO 8601), null before the consumer first ran. */
  since: string | null;
  month: string;
  /** Whether a report of the month ranks from its entries (else from the lake). */
  complete: boolean;
}

/** What `ranks sync --json` prints. */
export interface RanksSync {
  month: string;
  /** Month totals the scan found. */
  totals: number;
  /** Entries put or moved (0 when every total was in place). */
  moved: number;
  complete: true;
}

export async function ranksCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { month: { type: "string" }, ...STAGE_OPTIONS }, RANKS_HELP);
  if (values.help) {
    process.stdout.write(`${RANKS_HELP}\n`);
    return 0;
  }
  const [action, extra] = positionals;
  if (action !== "status" && action !== "sync")
    throw new UsageError(`ranks: expected "status" or "sync", got ${action === undefined ? "nothing" : `"${action}"`}`, { help: RANKS_HELP });
  if (extra !== undefined) throw new UsageError(`ranks ${action}: unexpected argument "${extra}"`, { help: RANKS_HELP });
  if (values.month !== undefined && !isMonthKey(values.month))
    throw new UsageError(`--month must be a UTC calendar month YYYY-MM, got "${values.month}"`, { help: RANKS_HELP });
  if (action === "sync" && values.month === undefined) throw new UsageError("ranks sync: --month YYYY-MM is required", { help: RANKS_HELP });
  const now = clockFromEnv()();
  const month = values.month ?? new Date(now).toISOString().slice(0, 7);
  const target = stageOf(values, RANKS_HELP);
  const dataDir = dataDirOf(values["data-dir"]);
  // What runs the stream consumer that writes the marker, for the refusal of a sync before it has run.
  const consumer = target ? `the stage's budget-alert function runs on its next counted invocation` : `"bedrock-spend start" or "ingest" on ${dataDir} runs it`;
  const run = (store: AggregatesStore): Promise<RanksStatus | RanksSync> => (action === "sync" ? sync(store, month, now, consumer) : status(store, month));
  const result = await localCommand(async (): Promise<RanksStatus | RanksSync> => {
    if (target) {
      const actions = action === "sync" ? "dynamodb:Scan, GetItem, PutItem, UpdateItem and DeleteItem" : "dynamodb:GetItem";
      return readStageTable(target, actions, (client, tableName) => run(new AggregatesStore(client, tableName)));
    }
    const table = await openLocalTable({ dataDir, role: "ranks", create: false, onWait: waitNotice });
    if (!table) {
      if (action === "sync") throw new CommandFailure(`${dataDir} has no aggregates table: nothing was counted there yet`);
      return { since: null, month, complete: false };
    }
    try {
      return await run(table.store);
    } finally {
      await table.close();
    }
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if ("totals" in result)
    process.stdout.write(
      `${result.month}: ${result.totals} month totals, ${result.moved} entries put in place; reports of ${result.month} rank from the entries now\n`,
    );
  else
    process.stdout.write(
      `${result.since === null ? "no rank marker yet: the table's stream consumer has not run since this version was deployed" : `entries follow every change since ${result.since}`}\n` +
        `${result.month}: ${result.complete ? "complete, ranked from its entries" : `incomplete, ranked from the lake (${result.since === null ? "sync it once the marker is written" : `run "bedrock-spend ranks sync --month ${result.month}"`})`}\n`,
    );
  return 0;
}

async function status(store: AggregatesStore, month: string): Promise<RanksStatus> {
  const since = await store.rankSince();
  return { since: since === undefined ? null : new Date(since * 1000).toISOString(), month, complete: await store.rankComplete(month) };
}

async function sync(store: AggregatesStore, month: string, now: number, consumer: string): Promise<RanksSync> {
  try {
    const { totals, moved } = await store.syncRankMonth(month, Math.floor(now / 1000));
    return { month, totals, moved, complete: true };
  } catch (error) {
    if (error instanceof RankSyncError) throw new CommandFailure(`${error.message} (${consumer})`, { cause: error });
    throw error;
  }
}
