/**
 * The TCP sockets a process listens on and the processes it started, read from /proc (Linux only).
 * Local mode serves unauthenticated data, so every local service must listen on loopback only:
 * the DynamoDB Local launcher checks its JVM with these, and the tests check every started process.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** One listening TCP socket of a process. */
export interface Listener {
  pid: number;
  /** The local address as text: `127.0.0.1`, `0.0.0.0`, `::`, `::ffff:127.0.0.1`, ... */
  address: string;
  port: number;
}

/** Whether `/proc` can be read here (Linux): without it, nothing can be checked. */
export function procAvailable(): boolean {
  try {
    readFileSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

function ipv4(hex: string): string {
  // /proc/net/tcp prints the address as one 32-bit word in host order (little-endian on x86 and arm64).
  const bytes = [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16));
  return bytes.join(".");
}

function ipv6(hex: string): string {
  // Four 32-bit words, each in host order.
  const bytes: number[] = [];
  for (let word = 0; word < 4; word++) {
    const text = hex.slice(word * 8, word * 8 + 8);
    for (const at of [6, 4, 2, 0]) bytes.push(Number.parseInt(text.slice(at, at + 2), 16));
  }
  const mapped = bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join(".")}`;
  const groups: string[] = [];
  for (let at = 0; at < 16; at += 2) groups.push((((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0)).toString(16));
  const text = groups.join(":");
  if (text === "0:0:0:0:0:0:0:0") return "::";
  if (text === "0:0:0:0:0:0:0:1") return "::1";
  return text;
}

/** Whether `address` (as `Listener.address` writes it) is a loopback address: 127.0.0.0/8, ::1 or ::ffff:127.x.x.x. */
export function isLoopbackAddress(address: string): boolean {
  if (address === "::1") return true;
  const v4 = address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
  return /^127\.\d+\.\d+\.\d+$/.test(v4);
}

/** Listening sockets in one /proc/net/tcp or tcp6 table: inode -> address and port. */
export function parseListeningTable(text: string, family: 4 | 6): Map<number, { address: string; port: number }> {
  const sockets = new Map<number, { address: string; port: number }>();
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== "0A") continue;
    const [addressHex, portHex] = (fields[1] as string).split(":") as [string, string];
    sockets.set(Number(fields[9]), { address: family === 4 ? ipv4(addressHex) : ipv6(addressHex), port: Number.parseInt(portHex, 16) });
  }
  return sockets;
}

function socketInodes(pid: number): number[] {
  const inodes: number[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.push(Number(match[1]));
    } catch {
      // Closed meanwhile.
    }
  }
  return inodes;
}

/** The TCP sockets that the processes `pids` listen on (IPv4 and IPv6). */
export function listeningSockets(pids: readonly number[]): Listener[] {
  const tables = new Map<number, { address: string; port: number }>();
  for (const [file, family] of [
    ["/proc/net/tcp", 4],
    ["/proc/net/tcp6", 6],
  ] as const) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const [inode, socket] of parseListeningTable(text, family)) tables.set(inode, socket);
  }
  const listeners: Listener[] = [];
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) {
      const socket = tables.get(inode);
      if (socket) listeners.push({ pid, ...socket });
    }
  }
  return listeners;
}

/** The listening sockets of `pids` that accept connections from other machines. */
export function nonLoopbackListeners(pids: readonly number[]): Listener[] {
  return listeningSockets(pids).filter((listener) => !isLoopbackAddress(listener.address));
}

/** Parent pid, process group and start time (clock ticks since boot) of `pid`, or undefined once it is gone. */
export function processStat(pid: number): { ppid: number; pgid: number; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  if (state === "Z" || state === "X") return undefined;
  return { ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: Number(fields[19]) };
}

/** The pids of every live process (Linux; none elsewhere). */
export function livePids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number);
  } catch {
    return [];
  }
}

/** Every live descendant of `pid` (children, their children, ...), not `pid` itself. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of livePids()) {
    const stat = processStat(entry);
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(entry);
    children.set(stat.ppid, siblings);
  }
  const found: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/** `pid` and its live descendants. */
export function processTree(pid: number): number[] {
  return processStat(pid) ? [pid, ...descendants(pid)] : descendants(pid);
}

/** The command line of `pid`, its arguments joined by spaces; empty once it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(join("/proc", String(pid), "cmdline"), "utf8")
      .split("\0")
      .join(" ")
      .trim();
  } catch {
    return "";
  }
}
