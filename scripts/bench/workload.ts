/**
 * Inputs of the benchmarks, from the deterministic generator (packages/traffic) with the
 * reference workload's defaults (docs/architecture.md), cached in the temp dir by the generator's source.
 */
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateTraffic, itemLine } from "@bedrock-spend/traffic";

/** Hash of the generator's source: a changed generator never reuses a cached input. */
export function generatorHash(root: string): string {
  const sources = join(root, "packages/traffic/src");
  const hash = createHash("sha256");
  for (const file of readdirSync(sources).sort()) hash.update(readFileSync(join(sources, file)));
  return hash.digest("hex").slice(0, 12);
}

/** A reference-workload JSON Lines file of about `mib` MiB (seed 1, 2,000 records/s of event time). */
export async function referenceJsonLines(root: string, mib: number): Promise<{ path: string; bytes: number; lines: number }> {
  const dir = join(tmpdir(), "bedrock-spend-bench");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `reference-${mib}mib-seed1-${generatorHash(root)}.jsonl`);
  const meta = `${path}.meta.json`;
  if (existsSync(path) && existsSync(meta)) return JSON.parse(readFileSync(meta, "utf8"));
  const target = mib * 1024 * 1024;
  const partial = `${path}.partial`;
  const out = createWriteStream(partial);
  let bytes = 0;
  let lines = 0;
  for (const item of generateTraffic({ seed: 1, count: Number.POSITIVE_INFINITY, ratePerSecond: 2000 })) {
    const line = `${itemLine(item)}\n`;
    bytes += Buffer.byteLength(line);
    lines++;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    if (bytes >= target) break;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  renameSync(partial, path);
  const info = { path, bytes, lines };
  writeFileSync(meta, JSON.stringify(info));
  return info;
}
