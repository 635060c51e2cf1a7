/**
 * The local stack: everything local mode runs, on one data dir, around the real handlers.
 *
 * - DynamoDB Local (Java child, `<data-dir>/dynamodb`) with the aggregates table, and kinesalite
 *   (in process, `<data-dir>/kinesis`) with the invocations stream, both created when missing;
 * - the Kinesis -> aggregate mapping (batching, partial batch responses, retries, bisection,
 *   on-failure records to the dead-letter queue), the local Firehose (buffering, the transform
 *   handler, Parquet by DuckDB under `<data-dir>/lake/`, failures under `<data-dir>/lake-errors/`),
 *   and the table stream -> budget-alert mapping;
 * - the alert sweep, the real alert-sweep handler every minute while the consumers loop (on AWS an
 *   EventBridge schedule runs it every 15 minutes), for alerts fired and never published;
 * - the dead-letter queue as files under `<data-dir>/quarantine/`;
 * - LocalAthena over the lake, and the fired alerts, for the dashboard and `query`;
 * - consumer checkpoints saved after each round in `<data-dir>/checkpoints.json`, so that a
 *   restart neither redoes nor skips;
 * - the data-dir lock (`<data-dir>/.lock`) with the endpoints, so that other commands use this
 *   stack while it runs.
 *
 * This file is the stack's lifecycle (start, stop, the services, the lock) and its interface; the
 * consumers run in `consumer-loops.ts`, the Firehose's delivery to the lake is `lake-delivery.ts`.
 *
 * `--chaos RATE` injects faults: DynamoDB throttling and crashes right after a committed write on
 * the aggregate path, duplicate deliveries of Kinesis batches and of whole payloads, and Firehose
 * flushes delivered again.
 */
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { BedrockProfileSource, type DeadLetterQueue, FileDeadLetterQueue, type QuarantinedRecord } from "@bedrock-spend/adapters";
import {
  type AliasMap,
  type ApplicationProfileLookup,
  ATTRIBUTION_DIMENSIONS,
  type AttributionDimension,
  type BudgetAlert,
  CachingProfileResolver,
  type Clock,
  ConfigurationError,
  defaultCatalog,
  type PriceCatalog,
  Pricer,
  systemClock,
} from "@bedrock-spend/core";
import { createLocalDashboardData, type DashboardData } from "@bedrock-spend/dashboard";
import {
  BedrockControlPlaneServer,
  type DynamoDbLocal,
  DynamoDbStreamReader,
  type Kinesalite,
  localDynamoDbClient,
  localDynamoDbStreamsClient,
  localKinesisClient,
  startDynamoDbLocal,
  startKinesalite,
} from "@bedrock-spend/emulators";
import { DuckDbLakeWriter, LocalAthena } from "@bedrock-spend/local-lake";
import { type KinesisBatchInfo, type LakeRedriveResult, redriveLakeFailures } from "@bedrock-spend/pipeline";
import {
  AggregatesStore,
  alertIdOf,
  ensureAggregatesTable,
  type FiredAlert,
  type InvocationToCount,
  RegistryPricing,
  scanAlerts,
  UsageWriter,
  type UsageWriterOptions,
  type WriteOutcome,
} from "@bedrock-spend/store";
import { Chaos, type ChaosStats } from "./chaos";
import { loadCheckpoints, type StackCheckpoints } from "./checkpoints";
import { ConsumerLoops, type ConsumerRound, type PumpRound } from "./consumer-loops";
import { type DataDirLayout, dataDirLayout, LOCAL_STREAM_NAME, LOCAL_TABLE_NAME } from "./data-dir";
import { DynamoDbStreamEventSourceMapping, KinesisEventSourceMapping } from "./event-source-mappings";
import { LocalFirehose } from "./firehose";
import { KinesisConsumer } from "./kinesis-consumer";
import { ensureStream, type PutReceipt, putPayloadRecords } from "./kinesis-put";
import { LakeDelivery, lakeRequestIds } from "./lake-delivery";
import { FileRawFailureStore, LocalLakeErrors } from "./lake-errors";
import { acquireLock, type DataDirLock, type LockInfo } from "./lock";
import { onShutdownSignal } from "./shutdown";

/** A line for the user (the CLI prints them; tests collect them). */
export interface StackLog {
  level: "info" | "warn" | "error";
  message: string;
}

/** Options of `LocalStack.start`. */
/**
 * The monthly breakdowns local mode keeps: `BEDROCK_SPEND_BREAKDOWNS` (a comma list of
 * tenantGroupId, departmentId, applicationId, userId), the setting a deployment takes for
 * `AGGREGATE_BREAKDOWNS`; none by default, as on AWS. A name outside the list throws a
 * `ConfigurationError` naming the variable.
 */
export function localBreakdowns(env: NodeJS.ProcessEnv = process.env): AttributionDimension[] {
  const value = env[LOCAL_BREAKDOWNS_VARIABLE]?.trim();
  if (!value) return [];
  return value.split(",").map((name) => {
    const dimension = name.trim();
    if (!(ATTRIBUTION_DIMENSIONS as readonly string[]).includes(dimension))
      throw new ConfigurationError(LOCAL_BREAKDOWNS_VARIABLE, `unknown dimension "${dimension}"; expected ${ATTRIBUTION_DIMENSIONS.join(", ")}`);
    return dimension as AttributionDimension;
  });
}

/** The variable that sets local mode's breakdowns, as it sets a deployment's. */
export const LOCAL_BREAKDOWNS_VARIABLE = "BEDROCK_SPEND_BREAKDOWNS";

export interface LocalStackOptions {
  dataDir: string;
  /**
   * The monthly breakdowns the aggregate consumer writes, as `AGGREGATE_BREAKDOWNS` on AWS
   * (default: `localBreakdowns()`, from `BEDROCK_SPEND_BREAKDOWNS`, the deploy setting).
   */
  breakdowns?: readonly AttributionDimension[];
  /** The pricer of both stream consumers (else one is built from `prices`, `profiles`, `aliases`). */
  pricer?: Pricer;
  /** The price catalog (default: the shipped one). */
  prices?: PriceCatalog;
  /** Application-inference-profile map (overrides what the Bedrock stand-in resolves). */
  profiles?: ApplicationProfileLookup;
  /**
   * Resolve application inference profiles through the Bedrock control-plane stand-in (its
   * profiles kept in the data dir), with the AWS adapter, as the consumers do on AWS. Default true;
   * false: the pricer's profile map alone.
   */
  resolveProfiles?: boolean;
  /** Metadata key aliases. */
  aliases?: AliasMap;
  /** Fault injection rate, 0 to 1 (`--chaos`). Default 0. */
  chaos?: number;
  /** Seed of the fault injection. Default 1. */
  chaosSeed?: number;
  onLog?: (log: StackLog) => void;
  /** Told of every alert the budget-alert handler publishes. */
  onAlert?: (alert: FiredAlert) => void;
  /** The command running the stack, as the lock names it. Default `start` (other commands share a `start`). */
  role?: string;
  /** How the stack prices, recorded in the lock for the commands that share it. */
  pricing?: LockInfo["pricing"];
  /** The data-dir lock, when the caller took it already (else the stack takes it for `role`). */
  lock?: DataDirLock;
  /** Stop the stack on SIGINT/SIGTERM and exit (130/143). Default true. */
  handleSignals?: boolean;
  /** How often the alert sweep runs while the consumers loop, ms. Default 60,000. */
  alertSweepIntervalMs?: number;
  /** Records per aggregate handler invocation. Default 100 (the Processing stack's). */
  batchSize?: number;
  /** Firehose buffering interval, ms. Default 1000. */
  firehoseIntervalMs?: number;
  /** How long the live consumers use a read of the pricing registry (default 1 s; 60 s on AWS). */
  registryTtlMs?: number;
  /** Told of every round of a consumer: how long it took and how many records it read (for benchmarks and diagnostics). */
  onRound?: (round: ConsumerRound) => void;
  /**
   * The clock of what the stack dates: the month a budget change is evaluated in (the table
   * stream's own timestamps come from the JVM's clock), when alerts fired, the dashboard's
   * "now", quarantine and lake-error files. Default the machine's.
   */
  clock?: Clock;
}

/** Counts since the stack started. */
export interface StackStats {
  /** Kinesis records read by the aggregate mapping (deliveries of a record counted once). */
  streamRecords: number;
  /** Handler invocations of the aggregate mapping. */
  invocations: number;
  counted: number;
  duplicates: number;
  unpriced: number;
  /** DynamoDB transactions the aggregate writer committed, and their write units (2 per item per started KB). */
  transactions: number;
  writeUnits: number;
  /** Exact cost of what was counted, pico-dollars. */
  costPico: bigint;
  /** Invalid log events sent to the quarantine. */
  quarantined: number;
  /** Batches given up after the retries (their location is in the quarantine). */
  failedBatches: number;
  lakeRows: number;
  /** Lake rows dropped because the lake held their request id already. */
  lakeDuplicates: number;
  /** Records and rows written under `lake-errors/`. */
  lakeErrors: number;
  alerts: number;
  handlerErrors: number;
  chaos: (ChaosStats & { duplicatedPayloads: number; firehoseRedeliveries: number }) | null;
}

type AggregateModule = typeof import("@bedrock-spend/functions/aggregate");
type TransformModule = typeof import("@bedrock-spend/functions/transform");
type BudgetAlertModule = typeof import("@bedrock-spend/functions/budget-alert");
type AlertSweepModule = typeof import("@bedrock-spend/functions/alert-sweep");
type PowertoolsModule = typeof import("@bedrock-spend/functions/lib/powertools");

interface Handlers {
  aggregate: AggregateModule;
  transform: TransformModule;
  budgetAlert: BudgetAlertModule;
  alertSweep: AlertSweepModule;
  powertools: PowertoolsModule;
}

/**
 * Imports the handler modules, with Powertools' log level at WARN unless set: a long local run
 * stays quiet (the level is read when the logger is built, at import).
 */
async function loadHandlers(): Promise<Handlers> {
  process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
  const [aggregate, transform, budgetAlert, alertSweep, powertools] = await Promise.all([
    import("@bedrock-spend/functions/aggregate"),
    import("@bedrock-spend/functions/transform"),
    import("@bedrock-spend/functions/budget-alert"),
    import("@bedrock-spend/functions/alert-sweep"),
    import("@bedrock-spend/functions/lib/powertools"),
  ]);
  return { aggregate, transform, budgetAlert, alertSweep, powertools };
}

/** A usage writer that tells what each write did. */
class ObservedUsageWriter extends UsageWriter {
  constructor(
    options: UsageWriterOptions,
    private readonly observe: (outcome: WriteOutcome<unknown>) => void,
  ) {
    super(options);
  }

  override async write<Origin>(invocations: readonly InvocationToCount<Origin>[]): Promise<WriteOutcome<Origin>> {
    const outcome = await super.write(invocations);
    this.observe(outcome as WriteOutcome<unknown>);
    return outcome;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function settleAll<T extends readonly unknown[]>(
  starts: { [K in keyof T]: () => Promise<T[K]> },
  cleanups: { [K in keyof T]: (value: T[K]) => Promise<unknown> },
): Promise<T> {
  const results = await Promise.allSettled(starts.map((start) => start()));
  const failed = results.find((result) => result.status === "rejected");
  if (!failed) return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
  await Promise.allSettled(
    results.map((result, index) => (result.status === "fulfilled" ? (cleanups[index] as (value: unknown) => Promise<unknown>)(result.value) : undefined)),
  );
  throw (failed as PromiseRejectedResult).reason;
}

/** Default of `LocalStackOptions.registryTtlMs`: a reprice's switch-over waits this long, plus the Firehose buffer. */
export const REGISTRY_TTL_MS = 1000;

/** Default of `LocalStackOptions.alertSweepIntervalMs`: alerts left undelivered go out a minute after the sweep's grace period. */
export const ALERT_SWEEP_INTERVAL_MS = 60_000;

export class LocalStack {
  readonly layout: DataDirLayout;
  readonly tableName = LOCAL_TABLE_NAME;
  readonly streamName = LOCAL_STREAM_NAME;
  readonly endpoints: { dynamodb: string; kinesis: string; bedrock: string };
  readonly pricer: Pricer;
  /** The monthly breakdowns the aggregate consumer writes: what the local spend API serves. */
  readonly breakdowns: readonly AttributionDimension[];
  /** The Bedrock control-plane stand-in (GetInferenceProfile, ListTagsForResource, CreateInferenceProfile...). */
  readonly bedrock: BedrockControlPlaneServer;
  readonly stats: StackStats;
  /** A DynamoDB client without fault injection. */
  readonly dynamoDb: DynamoDBClient;
  readonly store: AggregatesStore;
  readonly kinesis: KinesisClient;
  readonly athena: LocalAthena;
  readonly lock: DataDirLock;

  private readonly alertsById = new Map<string, FiredAlert>();
  private readonly chaos: Chaos | null;
  private readonly consumers: ConsumerLoops;
  /** The local Firehose and its delivery, for the lake redrive. */
  private readonly lake: { firehose: LocalFirehose; delivery: LakeDelivery };
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private removeSignal: () => void = () => {};
  private readonly clients: { destroy(): void }[] = [];
  /** What the stack dates things by (`LocalStackOptions.clock`). */
  readonly clock: Clock;

  private constructor(
    private readonly options: LocalStackOptions,
    private readonly services: {
      lock: DataDirLock;
      bedrock: BedrockControlPlaneServer;
      dynamo: DynamoDbLocal;
      kinesalite: Kinesalite;
      handlers: Handlers;
      lakeWriter: DuckDbLakeWriter;
      athena: LocalAthena;
      checkpoints: StackCheckpoints;
      lakeIds: Set<string>;
      alerts: FiredAlert[];
    },
  ) {
    const { dynamo, kinesalite, handlers } = services;
    this.clock = options.clock ?? systemClock;
    this.breakdowns = options.breakdowns ?? localBreakdowns();
    this.layout = dataDirLayout(options.dataDir);
    this.lock = services.lock;
    this.athena = services.athena;
    this.bedrock = services.bedrock;
    this.endpoints = { dynamodb: dynamo.endpoint, kinesis: kinesalite.endpoint, bedrock: services.bedrock.endpoint };
    const pricer =
      options.pricer ??
      new Pricer({
        catalog: options.prices ?? defaultCatalog(),
        ...(options.profiles ? { profiles: options.profiles } : {}),
        ...(options.aliases ? { aliases: options.aliases } : {}),
      });
    // One resolver for both consumers, as one cache per process: the lake and the aggregates see a profile alike.
    this.pricer =
      options.resolveProfiles === false
        ? pricer
        : pricer.withProfiles(localProfileResolver(services.bedrock.endpoint, pricer.profileLookup, services.bedrock.region));
    const rate = options.chaos ?? 0;
    this.chaos = rate > 0 ? new Chaos(rate, options.chaosSeed ?? 1) : null;
    this.stats = {
      streamRecords: 0,
      invocations: 0,
      counted: 0,
      duplicates: 0,
      unpriced: 0,
      transactions: 0,
      writeUnits: 0,
      costPico: 0n,
      quarantined: 0,
      failedBatches: 0,
      lakeRows: 0,
      lakeDuplicates: 0,
      lakeErrors: 0,
      alerts: 0,
      handlerErrors: 0,
      chaos: this.chaos ? { ...this.chaos.stats, duplicatedPayloads: 0, firehoseRedeliveries: 0 } : null,
    };
    for (const alert of services.alerts) this.alertsById.set(alert.alertId, alert);

    this.dynamoDb = localDynamoDbClient(dynamo.endpoint);
    this.store = new AggregatesStore(this.dynamoDb, this.tableName);
    this.kinesis = localKinesisClient(kinesalite.endpoint);
    const writerClient = localDynamoDbClient(dynamo.endpoint);
    this.chaos?.install(writerClient);
    this.clients.push(this.dynamoDb, this.kinesis, writerClient);

    const { metrics } = handlers.powertools;
    // The handlers add Powertools metrics (EMF) that a Lambda flushes after each invocation; here
    // nothing flushes them, so they are dropped after each call to keep memory flat.
    const quiet =
      <E, R>(handler: (event: E) => Promise<R>) =>
      async (event: E): Promise<R> => {
        try {
          return await handler(event);
        } finally {
          metrics.clearMetrics();
          metrics.clearDimensions();
        }
      };

    const quarantine = new FileDeadLetterQueue(this.layout.quarantine);
    const deadLetters: DeadLetterQueue = {
      send: async (records) => {
        await quarantine.send(records);
        this.stats.quarantined += records.length;
      },
    };
    const sendRaw = async (body: Record<string, unknown>) => {
      const id = sha256(JSON.stringify(body));
      await quarantine.send([{ id, quarantinedAt: new Date(this.clock()).toISOString(), ...body } as unknown as QuarantinedRecord]);
    };
    const streamArn = `arn:aws:kinesis:us-east-1:000000000000:stream/${this.streamName}`;
    // The live consumers price months a reprice registered with its catalog, read again each second.
    const livePricing = new RegistryPricing({
      client: this.dynamoDb,
      tableName: this.tableName,
      base: this.pricer,
      ttlMs: options.registryTtlMs ?? REGISTRY_TTL_MS,
    });
    const writer = new ObservedUsageWriter({ client: writerClient, tableName: this.tableName, breakdowns: [...this.breakdowns] }, (outcome) => {
      this.stats.counted += outcome.counted.length;
      this.stats.duplicates += outcome.duplicates.length;
      this.stats.transactions += outcome.transactions;
      this.stats.writeUnits += outcome.writeUnits;
      for (const invocation of outcome.counted) {
        if (invocation.costPico === null) this.stats.unpriced++;
        else this.stats.costPico += invocation.costPico;
      }
    });

    const checkpoints = services.checkpoints;
    const aggregateConsumer = new KinesisConsumer(this.kinesis, this.streamName, checkpoints.aggregate);
    const firehoseConsumer = new KinesisConsumer(this.kinesis, this.streamName, checkpoints.firehose);
    const aggregateMapping = new KinesisEventSourceMapping(
      aggregateConsumer,
      quiet(handlers.aggregate.createAggregateHandler({ pricer: livePricing, writer, deadLetters })),
      {
        streamArn,
        batchSize: options.batchSize ?? 100,
        // Lambda retries until the records expire by default; locally a high finite number, so that
        // chaos never exhausts them but a broken table still ends in the quarantine.
        maxRetryAttempts: 100,
        onFailure: async (info: KinesisBatchInfo & { condition: string }) => {
          this.stats.failedBatches++;
          this.log(
            "error",
            `a batch of ${info.shardId} (${info.startSequenceNumber}..${info.endSequenceNumber}) was given up; its location is in ${this.layout.quarantine}`,
          );
          await sendRaw({ requestContext: { condition: info.condition }, KinesisBatchInfo: info });
        },
        onError: (error) => {
          this.stats.handlerErrors++;
          // Chaos makes handlers fail on purpose; at stop, Ctrl-C reaches the JVM too.
          if (!this.chaos && !this.stopping) this.log("warn", `aggregate handler failed (the batch is retried): ${(error as Error).message}`);
        },
        stopping: () => this.consumers.isStopping(),
        ...(this.chaos ? { duplicate: () => this.chaos?.duplicateBatch() ?? false } : {}),
      },
    );
    const delivery = new LakeDelivery({
      writer: services.lakeWriter,
      errorsDir: this.layout.lakeErrors,
      lakeIds: services.lakeIds,
      clock: this.clock,
      stats: this.stats,
      onError: (message) => this.log("error", message),
    });
    // The transform keeps what it cannot turn into rows under lake-errors/ (on AWS, the raw failure bucket).
    const rawFailures = new FileRawFailureStore(this.layout.lakeErrors, (count) => {
      this.stats.lakeErrors += count;
    });
    const transform = handlers.transform.createTransformHandler({ pricer: livePricing, failures: rawFailures, now: () => new Date(this.clock()) });
    const firehose = new LocalFirehose(firehoseConsumer, quiet(transform), {
      deliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/bedrock-spend-local",
      sourceStreamArn: streamArn,
      bufferIntervalMs: options.firehoseIntervalMs ?? 1000,
      deliver: (rows) => delivery.deliver(rows),
      fail: (failures) => delivery.fail(failures),
    });
    this.lake = { firehose, delivery };
    const streams = localDynamoDbStreamsClient(dynamo.endpoint);
    this.clients.push(streams);
    const streamReader = new DynamoDbStreamReader({
      dynamoDb: this.dynamoDb,
      streams,
      tableName: this.tableName,
      checkpoint: checkpoints.alerts,
    });
    const publisher = { publish: async (alert: BudgetAlert) => this.recordAlert(alert) };
    const alertMapping = new DynamoDbStreamEventSourceMapping(
      streamReader,
      quiet(handlers.budgetAlert.createBudgetAlertHandler({ store: this.store, publisher, defaultBudget: null, now: this.clock })),
      {
        // Every counted transaction writes dozens of items: large batches keep the evaluations few.
        batchSize: 1000,
        onError: (error) => {
          if (!this.stopping) this.log("warn", `budget-alert handler failed (retried): ${(error as Error).message}`);
        },
        onFailure: async (sequenceNumbers) => {
          this.log("error", `${sequenceNumbers.length} table stream records were given up by the budget-alert mapping`);
          await sendRaw({ DynamoDbStreamBatchInfo: { tableName: this.tableName, sequenceNumbers } });
        },
      },
    );
    const alertSweep = quiet(handlers.alertSweep.createAlertSweepHandler({ store: this.store, publisher, now: this.clock }));
    this.consumers = new ConsumerLoops({
      aggregateMapping,
      aggregateConsumer,
      firehose,
      firehoseConsumer,
      alertMapping,
      alertsCheckpoint: () => streamReader.checkpoint(),
      checkpointsPath: this.layout.checkpoints,
      loaded: checkpoints,
      chaos: this.chaos,
      onFirehoseRedelivery: () => this.chaosStats().firehoseRedeliveries++,
      onAggregateRound: (round) => {
        this.stats.streamRecords += round.records;
        this.stats.invocations += round.invocations;
        this.syncChaosStats();
      },
      onRound: options.onRound,
      onLog: (level, message) => this.log(level, message),
      alertSweep: { run: async () => (await alertSweep({})).published, intervalMs: options.alertSweepIntervalMs ?? ALERT_SWEEP_INTERVAL_MS },
    });
  }

  /** Starts the stack on `options.dataDir` and takes its lock. @throws DataDirBusyError when another process holds it */
  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const layout = dataDirLayout(options.dataDir);
    const lock = options.lock ?? (await acquireLock(layout.root, options.role ?? "start", options.pricing ? { pricing: options.pricing } : {}));
    try {
      await mkdir(layout.dynamodb, { recursive: true });
      const [bedrock, dynamo, kinesalite, handlers, lakeWriter, athena] = await settleAll<
        [BedrockControlPlaneServer, DynamoDbLocal, Kinesalite, Handlers, DuckDbLakeWriter, LocalAthena]
      >(
        [
          () => new BedrockControlPlaneServer({ stateFile: layout.bedrockProfiles }).start(),
          () => startDynamoDbLocal({ dbPath: layout.dynamodb }),
          () => startKinesalite({ path: layout.kinesis }),
          () => loadHandlers(),
          () => DuckDbLakeWriter.open({ lakeDir: layout.lake, threads: 1 }),
          () => LocalAthena.open({ lakeDir: layout.lake }),
        ],
        [
          (bedrock) => bedrock.stop(),
          (dynamo) => dynamo.stop(),
          (kinesalite) => kinesalite.stop(),
          async () => undefined,
          (writer) => writer.close(),
          (athena) => athena.close(),
        ],
      );
      try {
        const dynamoDb = localDynamoDbClient(dynamo.endpoint);
        const kinesis = localKinesisClient(kinesalite.endpoint);
        try {
          await ensureAggregatesTable(dynamoDb, LOCAL_TABLE_NAME);
          await ensureStream(kinesis, LOCAL_STREAM_NAME);
          const [checkpoints, lakeIds, alerts] = await Promise.all([
            loadCheckpoints(layout.checkpoints),
            lakeRequestIds(athena),
            scanAlerts(dynamoDb, LOCAL_TABLE_NAME),
          ]);
          const stack = new LocalStack(options, { lock, bedrock, dynamo, kinesalite, handlers, lakeWriter, athena, checkpoints, lakeIds, alerts });
          await lock.update({ endpoints: stack.endpoints });
          if (options.handleSignals ?? true) stack.removeSignal = onShutdownSignal({ run: () => stack.stop(), exit: true });
          return stack;
        } finally {
          dynamoDb.destroy();
          kinesis.destroy();
        }
      } catch (error) {
        await Promise.allSettled([bedrock.stop(), dynamo.stop(), kinesalite.stop(), lakeWriter.close(), athena.close()]);
        throw error;
      }
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** The dashboard's data: the lake through LocalAthena, and the fired alerts. */
  dashboardData(): DashboardData {
    return createLocalDashboardData({ athena: this.athena, alerts: () => this.alerts(), now: this.clock });
  }

  /** Alerts fired on this data dir, newest first. */
  alerts(): FiredAlert[] {
    return [...this.alertsById.values()].sort((a, b) => (a.firedAt < b.firedAt ? 1 : a.firedAt > b.firedAt ? -1 : a.alertId < b.alertId ? -1 : 1));
  }

  /** Puts payloads (gzip CloudWatch Logs subscription payloads) on the stream; with chaos, some twice. */
  async putPayloads(payloads: readonly Uint8Array[]): Promise<PutReceipt[]> {
    if (!this.chaos) return putPayloadRecords(this.kinesis, this.streamName, payloads);
    const sent: Uint8Array[] = [];
    for (const payload of payloads) {
      sent.push(payload);
      if (this.chaos.roll()) {
        // CloudWatch Logs delivers at least once: the same payload again.
        sent.push(payload);
        this.chaosStats().duplicatedPayloads++;
      }
    }
    return putPayloadRecords(this.kinesis, this.streamName, sent);
  }

  /** One round of everything: aggregate mapping, Firehose (flushing when due, or now with `force`), budget alerts; then the checkpoints are saved. */
  pump(options: { force?: boolean } = {}): Promise<PumpRound> {
    return this.consumers.pump(options.force ?? false);
  }

  /**
   * `bedrock-spend redrive --lake-errors`: every raw failure under `lake-errors/` through the
   * transform again, into the lake, as the lake-redrive function does on AWS; rows the lake writer
   * had failed to write are written. What fails again is kept again, in a new file.
   */
  redriveLakeErrors(): Promise<LakeRedriveResult> {
    const { firehose, delivery } = this.lake;
    const errors = new LocalLakeErrors(this.layout.lakeErrors, (rows) => delivery.deliver(rows));
    return redriveLakeFailures([errors], { send: (failures) => firehose.redrive(failures) });
  }

  /** Pumps until nothing new arrives (the Firehose flushed each round): what `ingest` waits for. */
  drain(): Promise<void> {
    return this.consumers.drain();
  }

  /**
   * One run of the alert sweep (the alert-sweep handler): delivers the alerts fired more than its
   * grace period (15 minutes by the stack's clock) ago and never published. Resolves to how many it
   * delivered; rejects with the handler's `AlertSweepError` when one could not be delivered.
   */
  sweepAlerts(): Promise<number> {
    return this.consumers.sweepAlerts();
  }

  /**
   * Runs the consumers in the background until `stop()`, each in its own loop as on AWS, where the
   * Kinesis -> aggregate mapping, the Firehose and the table stream -> budget-alert mapping poll
   * independently (`ConsumerLoops.loop`); and the alert sweep every `alertSweepIntervalMs`.
   */
  loop(intervalMs = 200): void {
    if (!this.stopping) this.consumers.loop(intervalMs);
  }

  /**
   * Stops the consumers (a last round, the Firehose buffer delivered, the checkpoints saved),
   * closes DuckDB, stops DynamoDB Local and kinesalite and releases the lock. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.removeSignal();
    await this.consumers.stop();
    await Promise.allSettled([this.services.lakeWriter.close(), this.athena.close()]);
    for (const client of this.clients) client.destroy();
    await Promise.all([this.services.dynamo.stop(), this.bedrock.stop()]);
    // kinesalite waits for open connections (other processes' keep-alive sockets) to close.
    await Promise.race([this.services.kinesalite.stop(), new Promise<void>((resolve) => setTimeout(resolve, 3_000).unref())]);
    await this.lock.release();
  }

  private chaosStats(): NonNullable<StackStats["chaos"]> {
    return this.stats.chaos as NonNullable<StackStats["chaos"]>;
  }

  private syncChaosStats(): void {
    if (!this.chaos) return;
    Object.assign(this.chaosStats(), this.chaos.stats);
  }

  private recordAlert(alert: BudgetAlert): void {
    const alertId = alertIdOf(alert);
    if (this.alertsById.has(alertId)) return;
    const fired: FiredAlert = { ...alert, alertId, firedAt: new Date(this.clock()).toISOString() };
    this.alertsById.set(alertId, fired);
    this.stats.alerts++;
    this.options.onAlert?.(fired);
  }

  private log(level: StackLog["level"], message: string): void {
    this.options.onLog?.({ level, message });
  }
}

/**
 * The profile resolver of local mode: the AWS adapter over the Bedrock stand-in, with short TTLs
 * (a profile created while `start` runs is seen within seconds), the profile map as override.
 */
export function localProfileResolver(endpoint: string, overrides: ApplicationProfileLookup | undefined, region = "us-east-1"): CachingProfileResolver {
  const source = new BedrockProfileSource({
    region,
    endpoint,
    // The stand-in takes any signature; the SDK wants credentials to sign with.
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 2,
  });
  return new CachingProfileResolver(source, { ttlMillis: 60_000, negativeTtlMillis: 5_000, ...(overrides ? { fallback: overrides } : {}) });
}
