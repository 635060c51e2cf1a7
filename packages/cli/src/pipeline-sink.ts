/**
 * The local pipeline a command puts invocation logs into (ingest, backfill): the running
 * `bedrock-spend start` on the data dir when there is one (its stream, its prices), else a stack
 * the command starts itself; and how to wait until the pipeline has handled what was put.
 */
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Clock, Pricer } from "@bedrock-spend/core";
import { localDynamoDbClient, localKinesisClient } from "@bedrock-spend/emulators";
import { APPLICATION_PROFILES } from "@bedrock-spend/traffic";
import { loadPricer } from "./config";
import { CommandFailure, UsageError } from "./errors";
import { sharedNotice, waitNotice } from "./local";
import {
  checkpointCovers,
  dataDirLayout,
  highestPerShard,
  LOCAL_STREAM_NAME,
  LocalStack,
  type LockInfo,
  type LockOrShare,
  loadCheckpoints,
  localProfileResolver,
  lockOrShare,
  processAlive,
  putPayloadRecords,
  type StackStats,
} from "./local-mode";
import type { Progress } from "./progress";

/** Where the payloads go, and how to wait for them. */
export interface PipelineSink {
  client: DynamoDBClient;
  put(payloads: Uint8Array[]): Promise<void>;
  /** After each chunk: let the pipeline run. */
  step(): Promise<void>;
  /** Until the pipeline has handled everything put. */
  finish(onPhase: (phase: string) => void): Promise<void>;
  close(): Promise<void>;
  stats(): StackStats | undefined;
}

/** The sink of a stack this command runs itself. */
export async function ownSink(stack: LocalStack): Promise<PipelineSink> {
  return {
    client: stack.dynamoDb,
    put: async (payloads) => {
      await stack.putPayloads(payloads);
    },
    step: async () => {
      await stack.pump();
    },
    finish: async (onPhase) => {
      onPhase("finishing the pipeline");
      await stack.drain();
    },
    close: () => stack.stop(),
    stats: () => stack.stats,
  };
}

/** The sink of the running `start` on the data dir: its stream, and its checkpoints to wait on. */
export function sharedSink(holder: LockInfo, dataDir: string): PipelineSink {
  const endpoints = holder.endpoints as NonNullable<LockInfo["endpoints"]>;
  const client = localDynamoDbClient(endpoints.dynamodb);
  const kinesis = localKinesisClient(endpoints.kinesis);
  const highest: Record<string, string> = {};
  return {
    client,
    put: async (payloads) => {
      highestPerShard(await putPayloadRecords(kinesis, LOCAL_STREAM_NAME, payloads), highest);
    },
    step: async () => {},
    finish: async (onPhase) => {
      onPhase("waiting for the running start's pipeline");
      const path = dataDirLayout(dataDir).checkpoints;
      for (;;) {
        const checkpoints = await loadCheckpoints(path);
        if (checkpointCovers(checkpoints.aggregate, highest) && checkpointCovers(checkpoints.firehose, highest)) return;
        if (!processAlive(holder.pid))
          throw new CommandFailure(`the running bedrock-spend start (pid ${holder.pid}) stopped before it handled these records: ingest them again`);
        await sleep(100);
      }
    },
    close: async () => {
      client.destroy();
      kinesis.destroy();
    },
    stats: () => undefined,
  };
}

async function jsonOf(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Which pricing option of this command disagrees with the running start's (whose pipeline prices
 * the records), if any: a price or alias file must have the same content; a profile map must map
 * each of its ARNs as the start does (the start's map includes the generated traffic's profiles).
 */
async function pricingConflict(
  mine: NonNullable<LockInfo["pricing"]>,
  theirs: NonNullable<LockInfo["pricing"]>,
): Promise<"prices" | "profiles" | "aliases" | "profile-tags" | undefined> {
  if (mine.prices !== null && (mine.pricesOnly === true) !== (theirs.pricesOnly === true)) return "prices";
  for (const key of ["prices", "aliases"] as const) {
    const path = mine[key];
    if (path === null || path === theirs[key]) continue;
    if (theirs[key] === null || JSON.stringify(await jsonOf(path)) !== JSON.stringify(await jsonOf(theirs[key] as string))) return key;
  }
  const tagKeys = mine.profileTags ?? null;
  if (tagKeys !== null && tagKeys !== (theirs.profileTags ?? null)) {
    const their = theirs.profileTags ?? null;
    if (their === null || JSON.stringify(await jsonOf(tagKeys)) !== JSON.stringify(await jsonOf(their))) return "profile-tags";
  }
  if (mine.profiles !== null && mine.profiles !== theirs.profiles) {
    const own = (await jsonOf(mine.profiles)) as Record<string, unknown> | undefined;
    const effective: Record<string, unknown> = {
      ...APPLICATION_PROFILES,
      ...((theirs.profiles === null ? {} : await jsonOf(theirs.profiles)) as Record<string, unknown>),
    };
    if (!own || typeof own !== "object" || Object.entries(own).some(([arn, entry]) => JSON.stringify(entry) !== JSON.stringify(effective[arn])))
      return "profiles";
  }
  return undefined;
}

/** The file a running start was given for a pricing option (null: none). */
function theirFile(theirs: NonNullable<LockInfo["pricing"]>, option: "prices" | "profiles" | "aliases" | "profile-tags"): string | null {
  return option === "profile-tags" ? (theirs.profileTags ?? null) : theirs[option];
}

/** What `openLocalPipeline` needs. */
export interface LocalPipelineOptions {
  dataDir: string;
  /** The command, as the data dir's lock records it. */
  role: "ingest" | "backfill";
  pricing: NonNullable<LockInfo["pricing"]>;
  /** The command's own pricer (replaced by the running start's pricing when it is shared). */
  pricer: Pricer;
  chaos: number;
  clock: Clock;
  json: boolean;
  progress: Progress;
  /**
   * Whether the stack started here stops and exits on Ctrl-C (default true); false when the
   * command stops itself at a point of its choosing and then closes the sink.
   */
  stopOnSignal?: boolean;
}

/**
 * The pipeline of the data dir: the running start's (refused when the command's pricing options
 * differ from it, or with --chaos), or a stack started here under the data dir's lock.
 */
export async function openLocalPipeline(options: LocalPipelineOptions): Promise<{ sink: PipelineSink; pricer: Pricer; found: LockOrShare }> {
  const { dataDir, role, pricing, chaos, clock, json, progress } = options;
  let pricer = options.pricer;
  const found = await lockOrShare(dataDir, role, { onWait: waitNotice, extra: { pricing } });
  let sink: PipelineSink;
  if (found.kind === "shared") {
    const holder = found.holder;
    if (chaos > 0)
      throw new UsageError(
        `--chaos injects faults into this command's own pipeline, but bedrock-spend start (pid ${holder.pid}) runs the pipeline of ${holder.dataDir}: stop it, or give --chaos to start`,
      );
    const theirs = holder.pricing ?? { prices: null, pricesOnly: false, profiles: null, aliases: null };
    const conflict = await pricingConflict(pricing, theirs);
    if (conflict)
      throw new UsageError(
        `--${conflict}: the running bedrock-spend start (pid ${holder.pid}) prices with ${theirFile(theirs, conflict) === null ? `no --${conflict}` : `--${conflict} ${theirFile(theirs, conflict)}`}, and its pipeline prices these records: give start the same --${conflict}, or stop it`,
      );
    // The summary's costs with the prices of the pipeline that counts them: the start's.
    const given = (path: string | null) => path ?? undefined;
    pricer = await loadPricer(
      {
        prices: given(theirs.prices),
        pricesOnly: theirs.pricesOnly === true,
        profiles: given(theirs.profiles),
        aliases: given(theirs.aliases),
        profileTags: given(theirs.profileTags ?? null),
      },
      APPLICATION_PROFILES,
    );
    // The start's pipeline resolves application profiles through its Bedrock stand-in: so does the summary.
    if (holder.endpoints?.bedrock) pricer = pricer.withProfiles(localProfileResolver(holder.endpoints.bedrock, pricer.profileLookup));
    if (!json) sharedNotice(holder);
    sink = sharedSink(holder, dataDir);
  } else {
    const stack = await LocalStack.start({
      dataDir,
      pricer,
      lock: found.lock,
      role,
      pricing,
      chaos,
      chaosSeed: Date.now() % 1_000_000,
      handleSignals: options.stopOnSignal ?? true,
      clock,
      onLog: (log) => progress.line(`bedrock-spend: ${log.level === "info" ? "" : `${log.level}: `}${log.message}`),
      onAlert: (alert) =>
        progress.line(
          alert.kind === "forecast"
            ? `alert: ${alert.tenantId} is forecast to spend ${alert.forecastUsd} USD in ${alert.month}, above its ${alert.budgetUsd} USD budget`
            : `alert: ${alert.tenantId} reached ${alert.threshold}% of its ${alert.budgetUsd} USD budget for ${alert.month} (spend ${alert.spendUsd} USD)`,
        ),
    });
    sink = await ownSink(stack);
    // The stack's pricer resolves application profiles through its Bedrock stand-in.
    pricer = stack.pricer;
  }
  return { sink, pricer, found };
}
