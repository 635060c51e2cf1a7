/**
 * The aggregates table of a data dir, for the commands that only read or write it (`spend`,
 * `budgets`, `alerts`): the DynamoDB Local of a running `start` when there is one, else a DynamoDB
 * Local of their own on `<data-dir>/dynamodb`, held under the data-dir lock while they run.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDbLocal, localDynamoDbClient, startDynamoDbLocal } from "@bedrock-spend/emulators";
import { AggregatesStore, ensureAggregatesTable, tableExists } from "@bedrock-spend/store";
import { DEFAULT_DATA_DIR, dataDirLayout, LOCAL_TABLE_NAME } from "./data-dir";
import { type DataDirLock, type LockInfo, lockOrShare } from "./lock";
import { onShutdownSignal } from "./shutdown";

/** The table, open. */
export interface LocalTable {
  client: DynamoDBClient;
  store: AggregatesStore;
  tableName: string;
  /** The running `start` whose DynamoDB Local this uses; undefined when this process started its own. */
  shared: LockInfo | undefined;
  /** Closes the client; stops the DynamoDB Local this process started and releases the lock. */
  close(): Promise<void>;
}

/** Options of `openLocalTable`. */
export interface OpenLocalTableOptions {
  dataDir?: string;
  /** The command, as the lock names it. */
  role: string;
  /** Create the data dir and the table when missing (a write); else answer undefined for an empty data dir. */
  create: boolean;
  /** Told when another command holds the data dir and this one waits. */
  onWait?: (holder: LockInfo) => void;
}

/**
 * Opens the data dir's aggregates table. Undefined when `create` is false and the data dir holds
 * no table yet (nothing was ever counted there): no JVM is started for an empty data dir.
 */
export async function openLocalTable(options: OpenLocalTableOptions): Promise<LocalTable | undefined> {
  const layout = dataDirLayout(options.dataDir ?? DEFAULT_DATA_DIR);
  if (!options.create && !existsSync(layout.dynamodb) && !existsSync(layout.lock)) return undefined;
  const found = await lockOrShare(layout.root, options.role, options.onWait ? { onWait: options.onWait } : {});
  if (found.kind === "shared") {
    const endpoint = found.holder.endpoints?.dynamodb as string;
    const client = localDynamoDbClient(endpoint);
    const present = await tablePresent(client, options.create);
    if (!present) {
      client.destroy();
      return undefined;
    }
    return {
      client,
      store: new AggregatesStore(client, LOCAL_TABLE_NAME),
      tableName: LOCAL_TABLE_NAME,
      shared: found.holder,
      close: async () => client.destroy(),
    };
  }
  return ownTable(layout, found.lock, options.create);
}

async function ownTable(layout: ReturnType<typeof dataDirLayout>, lock: DataDirLock, create: boolean): Promise<LocalTable | undefined> {
  let dynamo: DynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      removeSignal();
      client?.destroy();
      await dynamo?.stop();
      await lock.release();
    })();
    return closed;
  };
  const removeSignal = onShutdownSignal({ run: () => close(), exit: true });
  try {
    if (!create && !existsSync(layout.dynamodb)) {
      await close();
      return undefined;
    }
    await mkdir(layout.dynamodb, { recursive: true });
    dynamo = await startShortLivedDynamoDbLocal(layout.dynamodb);
    await lock.update({ endpoints: { dynamodb: dynamo.endpoint, kinesis: "" } });
    client = localDynamoDbClient(dynamo.endpoint);
    const present = await tablePresent(client, create);
    if (!present) {
      await close();
      return undefined;
    }
    return { client, store: new AggregatesStore(client, LOCAL_TABLE_NAME), tableName: LOCAL_TABLE_NAME, shared: undefined, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * DynamoDB Local for a command that makes a few calls and exits: the JVM's client compiler only
 * and the serial collector start it a couple of seconds sooner on two cores (peak throughput,
 * which these commands do not need, is lower). Passed through JAVA_TOOL_OPTIONS, which the JVM
 * child inherits, unless the user set it.
 */
async function startShortLivedDynamoDbLocal(dbPath: string): Promise<DynamoDbLocal> {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  if (previous === undefined) process.env.JAVA_TOOL_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
  try {
    return await startDynamoDbLocal({ dbPath });
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
  }
}

/** Whether the table is there, creating it when `create`. */
async function tablePresent(client: DynamoDBClient, create: boolean): Promise<boolean> {
  if (!create) return tableExists(client, LOCAL_TABLE_NAME);
  await ensureAggregatesTable(client, LOCAL_TABLE_NAME);
  return true;
}
