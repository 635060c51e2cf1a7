/**
 * The data-dir lock: `<data-dir>/.lock` names the one process that runs local services on that
 * directory (DynamoDB Local's files cannot be opened by two JVMs), with the endpoints it serves.
 *
 * - A `start` holds it for as long as it runs; other commands read it and use its DynamoDB Local
 *   and kinesalite instead of starting their own ("they start what they need, or use a running
 *   start").
 * - A short command that starts its own services (`ingest`, `spend`, ...) holds it meanwhile;
 *   another command waits for it.
 * - A lock whose process is gone is stale: it is taken over, after killing a DynamoDB Local that
 *   the dead process left running on this data dir.
 *
 * The file is created atomically with its content (written to a temporary file, then hard-linked
 * into place, which fails if the lock exists), and updated by rename.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BedrockSpendError } from "@bedrock-spend/core";
import { dataDirLayout } from "./data-dir";

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  /** The command holding the lock: `start`, `ingest`, `spend`, ... */
  role: string;
  /** ISO 8601. */
  startedAt: string;
  /** Absolute data dir. */
  dataDir: string;
  /** Set once the services answer. */
  endpoints?: { dynamodb: string; kinesis: string; bedrock?: string; dashboard?: string };
  /** How the holder prices (absolute paths of the files given, or null), for commands that share it. */
  pricing?: { prices: string | null; pricesOnly?: boolean; profiles: string | null; aliases: string | null; profileTags?: string | null };
}

/** The data dir is locked by another live process. */
export class DataDirBusyError extends BedrockSpendError {
  readonly holder: LockInfo;

  constructor(holder: LockInfo, message?: string) {
    super(message ?? `${holder.dataDir} is in use by bedrock-spend ${holder.role} (pid ${holder.pid})`);
    this.name = "DataDirBusyError";
    this.holder = holder;
  }
}

/** Whether a process is alive (signal 0: EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readLockFile(path: string): Promise<LockInfo | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    return typeof info.pid === "number" ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The lock of `dataDir` if a live process holds it. */
export async function readLiveLock(dataDir: string): Promise<LockInfo | undefined> {
  const info = await readLockFile(dataDirLayout(dataDir).lock);
  return info && processAlive(info.pid) ? info : undefined;
}

/**
 * Pids of DynamoDB Local processes serving `dbPath` (from /proc: Linux only; none elsewhere).
 * Only JVMs whose command line names DynamoDBLocal and this exact -dbPath match.
 */
export function dynamoDbLocalPids(dbPath: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(join("/proc", entry, "cmdline"), "utf8").split("\0");
    } catch {
      continue;
    }
    const at = args.indexOf("-dbPath");
    if (at >= 0 && args[at + 1] === dbPath && args.some((arg) => arg.includes("DynamoDBLocal"))) pids.push(Number(entry));
  }
  return pids;
}

/** Kills DynamoDB Local processes left running on `dbPath` by a process that died. */
export async function killOrphanDynamoDbLocal(dbPath: string): Promise<number> {
  const pids = dynamoDbLocalPids(dbPath).filter((pid) => pid !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  const deadline = Date.now() + 5_000;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return pids.length;
}

/** Locks held by this process, removed on exit whatever way it ends. */
const held = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const path of held) {
      try {
        rmSync(path, { force: true });
      } catch {
        // Nothing more to do while exiting.
      }
    }
  });
}

/** A lock this process holds. */
export class DataDirLock {
  private released = false;

  constructor(
    readonly path: string,
    private info: LockInfo,
  ) {}

  /** What the lock file says now. */
  get current(): LockInfo {
    return this.info;
  }

  /** Rewrites the lock file with more information (endpoints once the services answer). */
  async update(fields: Partial<Omit<LockInfo, "pid" | "dataDir">>): Promise<void> {
    if (this.released) return;
    this.info = { ...this.info, ...fields };
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(this.info, null, 2)}\n`);
    await rename(temporary, this.path);
  }

  /** Removes the lock file (idempotent). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    const onDisk = await readLockFile(this.path);
    if (onDisk?.pid === process.pid) await rm(this.path, { force: true });
  }
}

/**
 * Takes the lock of `dataDir` for `role`. A stale lock (its process is gone) is taken over, after
 * killing a DynamoDB Local the dead process left on the data dir.
 * @throws DataDirBusyError when a live process holds it
 */
export async function acquireLock(
  dataDir: string,
  role: string,
  extra: Partial<Omit<LockInfo, "pid" | "role" | "dataDir" | "startedAt">> = {},
): Promise<DataDirLock> {
  const layout = dataDirLayout(dataDir);
  await mkdir(layout.root, { recursive: true });
  const info: LockInfo = { pid: process.pid, role, startedAt: new Date().toISOString(), dataDir: layout.root, ...extra };
  const temporary = `${layout.lock}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(info, null, 2)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temporary, layout.lock);
        held.add(layout.lock);
        installExitHook();
        return new DataDirLock(layout.lock, info);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 5) throw error;
      }
      const holder = await readLockFile(layout.lock);
      if (holder && processAlive(holder.pid)) throw new DataDirBusyError(holder);
      if (!holder) {
        // Being written by another process that just linked it (content comes with the link), or
        // garbage: give a live writer a moment, then treat it as stale.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const again = await readLockFile(layout.lock);
        if (again && processAlive(again.pid)) throw new DataDirBusyError(again);
      }
      await killOrphanDynamoDbLocal(layout.dynamodb);
      await rm(layout.lock, { force: true });
    }
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Waits until no live process other than a `start` holds the lock: returns the running `start`'s
 * lock when there is one (to share its services), undefined when the data dir is free.
 * `onWait` is told once when it has to wait.
 */
export async function waitForSharedOrFree(
  dataDir: string,
  options: { timeoutMs?: number; onWait?: (holder: LockInfo) => void } = {},
): Promise<LockInfo | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  let told = false;
  for (;;) {
    const holder = await readLiveLock(dataDir);
    if (!holder || holder.pid === process.pid) return undefined;
    if (holder.role === "start" && holder.endpoints) return holder;
    if (Date.now() > deadline) throw new DataDirBusyError(holder);
    if (!told) {
      told = true;
      options.onWait?.(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What `lockOrShare` found: a running `start` to share, or the lock, now held by this process. */
export type LockOrShare = { kind: "shared"; holder: LockInfo } | { kind: "own"; lock: DataDirLock };

/**
 * Shares a running `start`, or takes the lock for `role` (waiting for another command that holds
 * it to finish).
 */
export async function lockOrShare(
  dataDir: string,
  role: string,
  options: { timeoutMs?: number; onWait?: (holder: LockInfo) => void; extra?: Partial<Omit<LockInfo, "pid" | "role" | "dataDir" | "startedAt">> } = {},
): Promise<LockOrShare> {
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  for (;;) {
    const holder = await waitForSharedOrFree(dataDir, { timeoutMs: Math.max(0, deadline - Date.now()), ...(options.onWait ? { onWait: options.onWait } : {}) });
    if (holder) return { kind: "shared", holder };
    try {
      return { kind: "own", lock: await acquireLock(dataDir, role, options.extra) };
    } catch (error) {
      if (!(error instanceof DataDirBusyError) || Date.now() > deadline) throw error;
    }
  }
}
