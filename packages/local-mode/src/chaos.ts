/**
 * Fault injection for local mode (`--chaos RATE`), so that users can watch exactly once hold:
 * DynamoDB throttling before a call, a crash right after a committed write (the handler dies
 * between writes; the batch is retried), and duplicate deliveries of whole batches.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** What chaos did so far. */
export interface ChaosStats {
  throttled: number;
  crashesAfterWrite: number;
  duplicatedBatches: number;
}

/** Injects faults at `rate` (0 to 1), from a seeded generator so that runs can be replayed. */
export class Chaos {
  readonly stats: ChaosStats = { throttled: 0, crashesAfterWrite: 0, duplicatedBatches: 0 };
  private state: number;

  constructor(
    readonly rate: number,
    seed = 1,
  ) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`chaos rate must be between 0 and 1, got ${rate}`);
    this.state = seed >>> 0 || 1;
  }

  /** A uniform number in [0, 1) (xorshift32). */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }

  /** Whether to fault now. Each kind of fault fires at a third of the rate. */
  roll(): boolean {
    return this.rate > 0 && this.next() < this.rate / 3;
  }

  /** Adds throttling and crash-after-write faults to a DynamoDB client's transactions. */
  install(client: DynamoDBClient): void {
    if (this.rate === 0) return;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "TransactWriteItemsCommand") return next(args);
        if (this.roll()) {
          this.stats.throttled++;
          throw Object.assign(new Error("Rate exceeded (chaos)"), { name: "ThrottlingException", $metadata: {} });
        }
        const result = await next(args);
        if (this.roll()) {
          this.stats.crashesAfterWrite++;
          throw Object.assign(new Error("handler crashed after a committed write (chaos)"), { name: "ChaosCrash", $metadata: {} });
        }
        return result;
      },
      { step: "initialize", name: "bedrockSpendChaos" },
    );
  }

  /** Whether to deliver a batch a second time. */
  duplicateBatch(): boolean {
    const duplicate = this.roll();
    if (duplicate) this.stats.duplicatedBatches++;
    return duplicate;
  }
}
