/**
 * The three consumers of local mode and their checkpoints: the Kinesis -> aggregate mapping, the
 * Firehose (Kinesis -> transform -> lake) and the table stream -> budget-alert mapping. Each runs
 * in its own lane, as on AWS, where they poll independently: the aggregates never wait for a
 * Firehose delivery or an alert evaluation. After each round the consumers' positions are saved in
 * `<data-dir>/checkpoints.json`, so that a restart neither redoes nor skips.
 *
 * Beside them, what AWS runs on a schedule: the alert sweep (alerts fired and never published),
 * once when the loops start and then every `alertSweep.intervalMs`.
 */
import type { Chaos } from "./chaos";
import { type StackCheckpoints, saveCheckpoints } from "./checkpoints";
import type { DynamoDbStreamEventSourceMapping, KinesisEventSourceMapping } from "./event-source-mappings";
import type { LocalFirehose } from "./firehose";
import type { KinesisConsumer } from "./kinesis-consumer";

/** A consumer of local mode. */
export type ConsumerName = "aggregate" | "firehose" | "alerts";

/** One round of one consumer. */
export interface ConsumerRound {
  consumer: ConsumerName;
  ms: number;
  records: number;
}

/** What one round of every consumer read. */
export interface PumpRound {
  aggregateRecords: number;
  firehoseRecords: number;
  alertRecords: number;
}

/** The consumers and where their positions are kept. */
export interface ConsumerLoopsOptions {
  aggregateMapping: KinesisEventSourceMapping;
  aggregateConsumer: KinesisConsumer;
  firehose: LocalFirehose;
  firehoseConsumer: KinesisConsumer;
  alertMapping: DynamoDbStreamEventSourceMapping;
  /** The table stream's position (`DynamoDbStreamReader.checkpoint`). */
  alertsCheckpoint: () => StackCheckpoints["alerts"];
  checkpointsPath: string;
  /** The checkpoints as loaded at start (not saved again until they change). */
  loaded: StackCheckpoints;
  /** Faults to inject into the Firehose (a delivery read again, as after a crash before its checkpoint). */
  chaos: Chaos | null;
  /** Told of every Firehose redelivery chaos made. */
  onFirehoseRedelivery: () => void;
  /** Told of what each round of the aggregate mapping did. */
  onAggregateRound: (round: AggregateRound) => void;
  /** Told of every round (benchmarks, diagnostics). */
  onRound?: ((round: ConsumerRound) => void) | undefined;
  /** Told what went wrong, for the user (rounds are retried, the rest is read again at the next start). */
  onLog: (level: "warn" | "error", message: string) => void;
  /** The alert sweep (the alert-sweep handler; it resolves to the alerts it delivered), run every `intervalMs` while looping. */
  alertSweep?: { run: () => Promise<number>; intervalMs: number } | undefined;
}

/** What one round of the Kinesis -> aggregate mapping did. */
export type AggregateRound = Awaited<ReturnType<KinesisEventSourceMapping["runOnce"]>>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the consumers: one round of each on demand (`pump`), or each in its own loop (`loop`). */
export class ConsumerLoops {
  private queue: Promise<unknown> = Promise.resolve();
  /** Work of each consumer, one at a time (a loop's round and a `pump` never run a consumer twice at once). */
  private readonly lanes: Record<ConsumerName, Promise<unknown>> = {
    aggregate: Promise.resolve(),
    firehose: Promise.resolve(),
    alerts: Promise.resolve(),
  };
  /** Checkpoint saves, one at a time (they share a temporary file). */
  private saving: Promise<unknown> = Promise.resolve();
  /** Alert sweeps, one at a time (the loop's and `sweepAlerts`'). */
  private sweeping: Promise<unknown> = Promise.resolve();
  private looping: Promise<void> | undefined;
  private readonly wakers = new Set<() => void>();
  private stopping = false;
  /** Until when the last round at stop may run (after a Ctrl-C the JVM may already be gone). */
  private lastRoundUntil: number | undefined;
  private lastSaved: string;

  constructor(private readonly options: ConsumerLoopsOptions) {
    this.lastSaved = JSON.stringify(options.loaded);
  }

  /** Whether the consumers are stopping (and no last round is under way): the mappings give up their rounds. */
  isStopping(): boolean {
    return this.stopping && !(this.lastRoundUntil !== undefined && performance.now() < this.lastRoundUntil);
  }

  /** One round of every consumer (the Firehose flushing when due, or now with `force`); then the checkpoints are saved. */
  pump(force: boolean): Promise<PumpRound> {
    const run = this.queue.then(() => this.round(force));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Pumps until nothing new arrives (the Firehose flushed each round). */
  async drain(): Promise<void> {
    let idle = 0;
    while (idle < 2) {
      const round = await this.pump(true);
      idle = round.aggregateRecords + round.firehoseRecords + round.alertRecords === 0 ? idle + 1 : 0;
    }
  }

  /**
   * Runs the consumers in the background until `stop()`, each in its own loop. Each loop goes
   * again at once while it finds records, and after `intervalMs` when idle (Lambda polls an idle
   * shard about once a second; the batching window only waits while a batch is not full).
   */
  loop(intervalMs: number): void {
    if (this.looping || this.stopping) return;
    // `every`: wait `intervalMs` after each round, busy or not (a schedule), rather than only when idle (a poller).
    const run = async (name: string, step: () => Promise<number>, every?: number) => {
      while (!this.stopping) {
        let busy = false;
        try {
          busy = (await step()) > 0 && every === undefined;
          await this.persist();
        } catch (error) {
          if (this.stopping) break;
          this.options.onLog("error", `local pipeline ${name} round failed (retrying): ${(error as Error).message}`);
          await sleep(1000);
        }
        if (!busy && !this.stopping)
          await new Promise<void>((resolve) => {
            const wake = () => {
              clearTimeout(timer);
              this.wakers.delete(wake);
              resolve();
            };
            const timer = setTimeout(wake, every ?? intervalMs);
            this.wakers.add(wake);
          });
      }
    };
    const sweep = this.options.alertSweep;
    this.looping = Promise.all([
      run("aggregate", () => this.aggregateRound()),
      run("Firehose", () => this.firehoseRound(false)),
      run("budget-alert", () => this.alertRound()),
      ...(sweep ? [run("alert sweep", () => this.sweepAlerts(), sweep.intervalMs)] : []),
    ]).then(() => undefined);
  }

  /** One alert sweep, after any under way; the alerts it delivered (0 without a sweep). */
  sweepAlerts(): Promise<number> {
    const sweep = this.options.alertSweep;
    if (!sweep) return Promise.resolve(0);
    const run = this.sweeping.then(() => sweep.run());
    this.sweeping = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops the loops, then takes a last, time-bounded round (so that the aggregates count what the
   * Firehose is about to deliver), delivers what the Firehose buffers and saves the checkpoints.
   * What does not finish is read again at the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.wakers]) wake();
    await this.looping;
    this.lastRoundUntil = performance.now() + 5_000;
    try {
      await this.queue;
      await this.round(true);
    } catch (error) {
      this.options.onLog("warn", `the last round at stop did not finish (the rest is read again at the next start): ${(error as Error).message}`);
    }
    this.lastRoundUntil = undefined;
    try {
      await this.inLane("firehose", async () => {
        await this.options.firehose.flush();
        return 0;
      });
      await this.persist();
    } catch (error) {
      this.options.onLog("error", `could not deliver the Firehose buffer at stop (it is read again at the next start): ${(error as Error).message}`);
    }
  }

  private async round(force: boolean): Promise<PumpRound> {
    const aggregateRecords = await this.aggregateRound();
    const firehoseRecords = await this.firehoseRound(force);
    const alertRecords = await this.alertRound();
    await this.persist();
    return { aggregateRecords, firehoseRecords, alertRecords };
  }

  /** Runs `work` after what the consumer's lane already runs. */
  private inLane(lane: ConsumerName, work: () => Promise<number>): Promise<number> {
    const timed = async () => {
      const started = performance.now();
      const records = await work();
      this.options.onRound?.({ consumer: lane, ms: performance.now() - started, records });
      return records;
    };
    const run = this.lanes[lane].then(timed);
    this.lanes[lane] = run.catch(() => undefined);
    return run;
  }

  /** One round of the Kinesis -> aggregate mapping; the records it read. */
  private aggregateRound(): Promise<number> {
    return this.inLane("aggregate", async () => {
      const round = await this.options.aggregateMapping.runOnce();
      this.options.onAggregateRound(round);
      return round.records;
    });
  }

  /** One round of the Firehose (flushing when due, or now with `force`); the records it read. */
  private firehoseRound(force: boolean): Promise<number> {
    const { firehose, firehoseConsumer, chaos } = this.options;
    return this.inLane("firehose", async () => {
      const before = { records: firehose.stats.recordsIn, flushes: firehose.stats.flushes };
      const snapshot = chaos ? firehoseConsumer.checkpoint() : undefined;
      await firehose.runOnce(force);
      if (chaos && snapshot && firehose.stats.flushes > before.flushes && chaos.roll()) {
        // The delivery "crashed" before its checkpoint: the records are read and delivered again.
        for (const shardId of Object.keys(firehoseConsumer.checkpoint())) firehoseConsumer.rewind(shardId, snapshot[shardId]);
        this.options.onFirehoseRedelivery();
      }
      return firehose.stats.recordsIn - before.records;
    });
  }

  /** One round of the table stream -> budget-alert mapping; the records it read. */
  private alertRound(): Promise<number> {
    return this.inLane("alerts", async () => (await this.options.alertMapping.runOnce()).records);
  }

  /** Saves the checkpoints of all consumers, one save at a time, when they changed. */
  private persist(): Promise<void> {
    const run = this.saving.then(async () => {
      const checkpoints: StackCheckpoints = {
        version: 1,
        aggregate: this.options.aggregateConsumer.checkpoint(),
        firehose: this.options.firehoseConsumer.checkpoint(),
        alerts: this.options.alertsCheckpoint(),
      };
      const text = JSON.stringify(checkpoints);
      if (text === this.lastSaved) return;
      await saveCheckpoints(this.options.checkpointsPath, checkpoints);
      this.lastSaved = text;
    });
    this.saving = run.catch(() => undefined);
    return run;
  }
}
