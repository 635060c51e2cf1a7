/**
 * The aggregates DynamoDB table as a spend source: two GetItems, the tenant's month total and its
 * budget, for applications that can read the table directly (no spend API hop).
 *
 * The table's keys and attribute names come from @bedrock-spend/store (its `keys` and `layout`,
 * bundled into this package), so that escaping and names never drift: the tenant's month-total
 * item (`costPico`, integer pico-dollars) and its budget item (`monthlyUsd`, decimal USD).
 * `@aws-sdk/client-dynamodb` is an optional peer dependency, loaded on first use.
 */
import { formatUsd } from "@bedrock-spend/core/money";
import { BUDGET_SK, monthSk, tenantPk } from "@bedrock-spend/store/keys";
import { BUDGET_ATTRIBUTES, COUNTER_ATTRIBUTES, PK, SK } from "@bedrock-spend/store/layout";
import { InvalidOptionsError } from "../errors";
import type { MonthStatus, SpendSource } from "../guard";

/** Any DynamoDB client of the AWS SDK v3 (`DynamoDBClient` from `@aws-sdk/client-dynamodb`). */
export interface DynamoDbClientLike {
  send(command: never, options?: never): Promise<unknown>;
}

/** Options of `aggregatesTableSource`. */
export interface AggregatesTableSourceOptions {
  /** The aggregates table's name. */
  tableName: string;
  /** A `DynamoDBClient`. Default: one created from `clientConfig`. */
  client?: DynamoDbClientLike;
  /** Configuration of the client created when `client` is not given (region, credentials, endpoint...). */
  clientConfig?: Record<string, unknown>;
  /** Budget of tenants without their own (what the deployment's `BEDROCK_SPEND_DEFAULT_BUDGET_USD` says), decimal USD. Default none. */
  defaultBudgetUsd?: string | null;
  /** Strongly consistent reads (twice the read cost). Default false: the guard is a few seconds behind anyway. */
  consistentRead?: boolean;
}

interface AttributeValueLike {
  S?: string;
  N?: string;
}

type Sender = (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<{ Item?: Record<string, AttributeValueLike> }>;

/** A `SpendSource` reading the aggregates table with GetItem. */
export function aggregatesTableSource(options: AggregatesTableSourceOptions): SpendSource {
  if (typeof options !== "object" || options === null) throw new InvalidOptionsError("aggregatesTableSource", "must be an object with a tableName");
  if (typeof options.tableName !== "string" || options.tableName.length === 0) throw new InvalidOptionsError("aggregatesTableSource.tableName", "is required");
  if (options.client !== undefined && typeof options.client?.send !== "function") {
    throw new InvalidOptionsError("aggregatesTableSource.client", "must be a DynamoDBClient (an object with send)");
  }
  const defaultBudgetUsd = options.defaultBudgetUsd ?? null;
  if (defaultBudgetUsd !== null && !/^\d+(\.\d{1,12})?$/.test(defaultBudgetUsd)) {
    throw new InvalidOptionsError("aggregatesTableSource.defaultBudgetUsd", `must be a decimal USD amount, got ${JSON.stringify(defaultBudgetUsd)}`);
  }
  const { tableName } = options;
  const consistentRead = options.consistentRead ?? false;
  let ready: Promise<{ send: Sender; GetItemCommand: new (input: object) => unknown }> | undefined;

  const load = () => {
    ready ??= import("@aws-sdk/client-dynamodb").then(
      (module) => {
        const client = options.client ?? new module.DynamoDBClient(options.clientConfig ?? {});
        const send = (client as unknown as { send: Sender }).send.bind(client);
        return { send, GetItemCommand: module.GetItemCommand as new (input: object) => unknown };
      },
      (error: unknown) => {
        ready = undefined;
        throw new Error("aggregatesTableSource needs @aws-sdk/client-dynamodb: npm install @aws-sdk/client-dynamodb", { cause: error });
      },
    );
    return ready;
  };

  return {
    async monthStatus(tenantId, month, lookup = {}): Promise<MonthStatus> {
      const { send, GetItemCommand } = await load();
      const get = (sk: string, attribute: string) =>
        send(
          new GetItemCommand({
            TableName: tableName,
            Key: { [PK]: { S: tenantPk(tenantId) }, [SK]: { S: sk } },
            ProjectionExpression: "#a",
            ExpressionAttributeNames: { "#a": attribute },
            ConsistentRead: consistentRead,
          }),
          lookup.signal ? { abortSignal: lookup.signal } : undefined,
        );
      const [total, budget] = await Promise.all([get(monthSk(month), COUNTER_ATTRIBUTES.costPico), get(BUDGET_SK, BUDGET_ATTRIBUTES.monthlyUsd)]);
      const pico = total.Item?.[COUNTER_ATTRIBUTES.costPico]?.N ?? "0";
      if (!/^\d+$/.test(pico)) throw new Error(`the month item of ${JSON.stringify(tenantId)} has costPico ${JSON.stringify(pico)}, not an integer`);
      let monthlyUsd: string | null = defaultBudgetUsd;
      if (budget.Item) {
        const own = budget.Item[BUDGET_ATTRIBUTES.monthlyUsd]?.S;
        if (own === undefined) throw new Error(`the budget item of ${JSON.stringify(tenantId)} has no monthlyUsd string`);
        monthlyUsd = own;
      }
      return { spendUsd: formatUsd(BigInt(pico)), budget: monthlyUsd === null ? null : { monthlyUsd } };
    },
  };
}
