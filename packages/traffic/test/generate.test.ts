import { describe, expect, it } from "vitest";
import { Attributor, DEFAULT_TAG_KEYS, decodeText, defaultCatalog, Pricer, parseInvocationLog, StaticProfileMap } from "../../core/src/index";
import {
  APPLICATION_PROFILE_ARN,
  APPLICATION_PROFILES,
  bodySize,
  DEPARTMENTS,
  generateInvocations,
  generateTraffic,
  type InvocationLogRecord,
  itemLine,
  jsonLength,
  MALFORMED_DEFECTS,
  MODEL_MIX,
  PERMISSIONS_LINE,
  type TrafficItem,
  type TrafficOptions,
  tenantAt,
  tenantProfileSpecs,
} from "../src/index";

function lines(options: TrafficOptions): string {
  let out = "";
  for (const item of generateTraffic(options)) out += `${itemLine(item)}\n`;
  return out;
}

function records(items: Iterable<TrafficItem>): InvocationLogRecord[] {
  const out: InvocationLogRecord[] = [];
  for (const item of items) if (item.kind === "record") out.push(item.record);
  return out;
}

const pricer = new Pricer({ catalog: defaultCatalog(), profiles: StaticProfileMap.fromJson(APPLICATION_PROFILES) });

// One shared sample of the reference workload, so the statistical tests stay fast.
const sample = [...generateTraffic({ seed: 20261127, count: 30_000 })];
const sampleRecords = records(sample);

const METADATA_CHARS = /^[a-zA-Z0-9\s:_@$#=/+,\-.]*$/;

describe("generateTraffic: determinism", () => {
  it("gives byte-identical output for the same options", () => {
    const options = { seed: 99, count: 3000, tenants: 500 };
    expect(lines(options)).toBe(lines(options));
  });

  it("gives different output for a different seed", () => {
    const a = lines({ seed: 1, count: 200 });
    const b = lines({ seed: 2, count: 200 });
    expect(a).not.toBe(b);
    const idsA = new Set(records(generateTraffic({ seed: 1, count: 200 })).map((record) => record.requestId));
    for (const record of records(generateTraffic({ seed: 2, count: 200 }))) expect(idsA.has(record.requestId)).toBe(false);
  });

  it("does not depend on what ran before (no shared state between runs)", () => {
    const before = lines({ seed: 5, count: 500 });
    lines({ seed: 6, count: 5000, bodyBytes: 700 });
    expect(lines({ seed: 5, count: 500 })).toBe(before);
  });

  it("keeps the tenant population independent of the seed, so runs compare", () => {
    const tenantsOf = (seed: number) => new Set(records(generateTraffic({ seed, count: 3000, tenants: 20 })).map((r) => r.requestMetadata?.tenantId));
    expect([...tenantsOf(1)].sort()).toEqual([...tenantsOf(2)].sort());
  });
});

describe("generateTraffic: records", () => {
  it("yields the requested count, and the permissions line first when asked", () => {
    const items = [...generateTraffic({ seed: 3, count: 100 })];
    expect(items).toHaveLength(101);
    expect(items[0]).toMatchObject({ kind: "permissions-line", line: PERMISSIONS_LINE });
    expect([...generateTraffic({ seed: 3, count: 100, permissionsLine: false })]).toHaveLength(100);
    expect([...generateTraffic({ count: 0 })]).toHaveLength(1);
  });

  it("produces records that pass parseInvocationLog", () => {
    let failures = 0;
    for (const record of sampleRecords) {
      const parsed = parseInvocationLog(JSON.parse(JSON.stringify(record)));
      if (!parsed.ok) failures++;
    }
    expect(failures).toBe(0);
    expect(sampleRecords.length).toBeGreaterThan(29_800);
  });

  it("has the official shape and field formats", () => {
    const keyOrder = ["schemaType", "schemaVersion", "timestamp", "accountId", "region", "requestId", "operation", "modelId", "identity"].join();
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const problems: string[] = [];
    const ids = new Set<string>();
    let previous = "";
    for (const record of sampleRecords) {
      const check = (ok: boolean, what: string) => {
        if (!ok) problems.push(`${record.requestId}: ${what}`);
      };
      check(Object.keys(record).slice(0, 9).join() === keyOrder, "key order");
      check(record.schemaType === "ModelInvocationLog" && record.schemaVersion === "1.0", "schema");
      check(/^2026-11-27T\d{2}:\d{2}:\d{2}Z$/.test(record.timestamp) && record.timestamp >= previous, "timestamp");
      previous = record.timestamp;
      check(record.accountId === "123456789012" && record.region === "us-east-1", "account or region");
      check(uuid.test(record.requestId), "requestId");
      ids.add(record.requestId);
      check(/^arn:aws:sts::123456789012:assumed-role\/[a-z-]+\/[0-9a-f]{16}$/.test(record.identity.arn), "identity.arn");
      check(record.input.inputContentType === "application/json" && record.output.outputContentType === "application/json", "content types");
      check(Number.isInteger(record.input.inputTokenCount) && record.input.inputTokenCount > 0, "inputTokenCount");
      check(Number.isInteger(record.output.outputTokenCount) && record.output.outputTokenCount >= 0, "outputTokenCount");
      const profiled = /^(us|global)\./.test(record.modelId) || record.modelId.includes(":application-inference-profile/");
      check((record.inferenceRegion !== undefined) === profiled, "inferenceRegion only on profile ids");
      check(record.modelId.includes("titan-embed") ? record.operation === "InvokeModel" : true, "embeddings via InvokeModel");
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(ids.size).toBe(sampleRecords.length);
  });

  it("advances timestamps by exactly 1/rate", () => {
    const items = [...generateTraffic({ seed: 1, count: 100, ratePerSecond: 4, start: "2026-11-27T10:00:00Z", permissionsLine: false })];
    expect(items[0]?.timestampMs).toBe(Date.parse("2026-11-27T10:00:00Z"));
    expect(items[99]?.timestampMs).toBe(Date.parse("2026-11-27T10:00:24.750Z"));
    const last = items[99];
    if (last?.kind === "record") expect(last.record.timestamp).toBe("2026-11-27T10:00:24Z");
  });

  it("uses all four operations and the 20 models of the mix, cheap ones most", () => {
    const operations = new Map<string, number>();
    const models = new Map<string, number>();
    for (const record of sampleRecords) {
      operations.set(record.operation, (operations.get(record.operation) ?? 0) + 1);
      models.set(record.modelId, (models.get(record.modelId) ?? 0) + 1);
    }
    expect([...operations.keys()].sort()).toEqual(["Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"]);
    expect(MODEL_MIX).toHaveLength(20);
    for (const model of MODEL_MIX) expect(models.get(model.modelId) ?? 0).toBeGreaterThan(0);
    expect(models.get("amazon.nova-micro-v1:0")).toBeGreaterThan(models.get("global.anthropic.claude-opus-4-6-v1") ?? 0);
    expect(MODEL_MIX.some((model) => model.modelId.startsWith("us."))).toBe(true);
    expect(MODEL_MIX.some((model) => model.modelId.startsWith("global."))).toBe(true);
    expect(MODEL_MIX.filter((model) => model.modelId.startsWith("arn:")).map((model) => model.modelId)).toEqual([APPLICATION_PROFILE_ARN]);
  });

  it("puts cache tokens on about 15% of records, only where the catalog prices them", () => {
    let cached = 0;
    for (const record of sampleRecords) {
      const read = record.input.cacheReadInputTokenCount ?? 0;
      const write = record.input.cacheWriteInputTokenCount ?? 0;
      if (read > 0 || write > 0) cached++;
      if (record.modelId.includes("amazon.nova")) expect(write).toBe(0);
      if (read > 0 || write > 0) expect(record.modelId).toMatch(/anthropic\.claude-(3-5|haiku-4|sonnet-4|opus-4)|amazon\.nova|application-inference-profile/);
    }
    const fraction = cached / sampleRecords.length;
    expect(fraction).toBeGreaterThan(0.135);
    expect(fraction).toBeLessThan(0.165);
  });

  it("tags requestMetadata within Bedrock's rules: at most 16 entries of [a-zA-Z0-9\\s:_@$#=/+,-.]{0,256}", () => {
    let untagged = 0;
    const problems: string[] = [];
    for (const record of sampleRecords) {
      const metadata = record.requestMetadata;
      if (!metadata) {
        untagged++;
        continue;
      }
      const entries = Object.entries(metadata);
      if (entries.length < 1 || entries.length > 16) problems.push(`${entries.length} entries`);
      for (const [key, value] of entries) {
        if (!METADATA_CHARS.test(key) || key.length < 1 || key.length > 256) problems.push(`key ${key}`);
        if (typeof value !== "string" || !METADATA_CHARS.test(value) || value.length > 256) problems.push(`${key}=${value}`);
      }
      if (!["free", "pro", "enterprise"].includes(metadata.tenantGroup ?? "")) problems.push(`tenantGroup ${metadata.tenantGroup}`);
      if (!(DEPARTMENTS as readonly string[]).includes(metadata.departmentId ?? "")) problems.push(`departmentId ${metadata.departmentId}`);
      if (!metadata.tenantId || !metadata.applicationId) problems.push("tenantId or applicationId missing");
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(untagged).toBeLessThan(sampleRecords.length * 0.005);
  });

  it("gives each tenant at most 8 departments", () => {
    const departments = new Map<string, Set<string>>();
    for (const record of sampleRecords) {
      const metadata = record.requestMetadata;
      if (!metadata?.tenantId || !metadata.departmentId) continue;
      const set = departments.get(metadata.tenantId) ?? new Set<string>();
      set.add(metadata.departmentId);
      departments.set(metadata.tenantId, set);
    }
    const largest = Math.max(...[...departments.values()].map((set) => set.size));
    expect(largest).toBe(8);
  });

  it("averages the target body size (request + response JSON)", () => {
    // Below about 700 bytes the target is under the JSON structure of many bodies and cannot be met.
    for (const bodyBytes of [2048, 1000]) {
      const sized = bodyBytes === 2048 ? sampleRecords : records(generateTraffic({ seed: 4, count: 10_000, bodyBytes }));
      const average = sized.reduce((sum, record) => sum + bodySize(record), 0) / sized.length;
      expect(Math.abs(average - bodyBytes) / bodyBytes).toBeLessThan(0.03);
    }
    const sizes = sampleRecords.map(bodySize).sort((a, b) => a - b);
    // Bodies vary in size, as real traffic does.
    expect(sizes[Math.floor(sizes.length * 0.1)]).toBeLessThan(1400);
    expect(sizes[Math.floor(sizes.length * 0.9)]).toBeGreaterThan(2600);
  });

  it("sizes JSON without serializing it, exactly", () => {
    for (const record of sampleRecords.slice(0, 2000)) {
      expect(jsonLength(record)).toBe(JSON.stringify(record).length);
    }
    expect(jsonLength({ a: undefined, b: [undefined, null, 'x"\n\u0001'], c: -0, d: 1e21, e: true })).toBe(
      JSON.stringify({ a: undefined, b: [undefined, null, 'x"\n\u0001'], c: -0, d: 1e21, e: true }).length,
    );
  });

  it("writes Converse responses with usage and metrics.latencyMs matching the record's counts", () => {
    for (const record of sampleRecords.slice(0, 3000)) {
      if (record.operation !== "Converse" && record.operation !== "ConverseStream") continue;
      const body = record.output.outputBodyJson as {
        output: { message: { role: string; content: Array<{ text: string }> } };
        stopReason: string;
        usage: { inputTokens: number; outputTokens: number; totalTokens: number };
        metrics: { latencyMs: number };
      };
      expect(body.output.message.role).toBe("assistant");
      expect(body.usage.inputTokens).toBe(record.input.inputTokenCount);
      expect(body.usage.outputTokens).toBe(record.output.outputTokenCount);
      expect(body.usage.totalTokens).toBe(
        record.input.inputTokenCount +
          record.output.outputTokenCount +
          (record.input.cacheReadInputTokenCount ?? 0) +
          (record.input.cacheWriteInputTokenCount ?? 0),
      );
      expect(body.metrics.latencyMs).toBeGreaterThan(0);
      const input = record.input.inputBodyJson as { messages: Array<{ role: string }> };
      expect(input.messages.at(-1)?.role).toBe("user");
    }
  });
});

describe("generateTraffic: what the pipeline makes of it", () => {
  it("prices every record marked priced, leaves the others unpriced, and quarantines malformed lines", () => {
    const counts = { priced: 0, unpriced: 0, invalid: 0, skipped: 0 };
    const defects = new Set<string>();
    const problems: string[] = [];
    for (const item of sample) {
      const decoded = decodeText(itemLine(item));
      const [only] = decoded;
      if (decoded.length !== 1 || only === undefined) {
        problems.push(`${decoded.length} items from one line`);
        continue;
      }
      const outcome = pricer.priceItem(only);
      if (item.kind === "permissions-line") {
        if (outcome.kind !== "skipped") problems.push("permissions line not skipped");
        counts.skipped++;
      } else if (item.kind === "malformed") {
        if (outcome.kind !== "invalid") problems.push(`${item.defect} not invalid`);
        defects.add(item.defect);
        counts.invalid++;
      } else if (outcome.kind !== "usage") {
        problems.push(`${item.record.requestId} is ${outcome.kind}`);
      } else {
        const expected = item.priced ? "priced" : "unpriced";
        if (outcome.usage.record.status !== expected) problems.push(`${item.record.modelId}: ${outcome.usage.record.status} ${outcome.usage.record.reason}`);
        counts[expected]++;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(defects).toEqual(new Set(MALFORMED_DEFECTS));
    expect(counts.invalid / sample.length).toBeGreaterThan(0.001);
    expect(counts.invalid / sample.length).toBeLessThan(0.004);
    expect(counts.unpriced / sample.length).toBeGreaterThan(0.0015);
    expect(counts.unpriced / sample.length).toBeLessThan(0.0045);
    expect(counts.skipped).toBe(1);
  });

  it("prices the application-profile records only with the profile map", () => {
    const record = sampleRecords.find((candidate) => candidate.modelId === APPLICATION_PROFILE_ARN);
    const [item] = decodeText(JSON.stringify(record));
    if (!record || !item) throw new Error("no application-profile record in the sample");
    const without = new Pricer({ catalog: defaultCatalog() }).priceItem(item);
    expect(without.kind === "usage" && without.usage.record.status).toBe("unpriced");
    const priced = pricer.priceItem(item);
    expect(priced.kind === "usage" && priced.usage.record.model).toBe("anthropic.claude-haiku-4-5-20251001-v1:0");
  });

  it("generateInvocations yields records as objects and the other lines as strings", () => {
    const values = [...generateInvocations({ seed: 20261127, count: 5000 })];
    const items = sample.slice(0, values.length);
    expect(values.map((value) => typeof value)).toEqual(items.map((item) => (item.kind === "record" ? "object" : "string")));
    expect(values.map((value) => (typeof value === "string" ? value : JSON.stringify(value)))).toEqual(items.map(itemLine));
  });
});

describe("options", () => {
  it("refuses out-of-range options", () => {
    const run = (options: TrafficOptions) => () => [...generateTraffic({ count: 1, ...options })];
    expect(run({ tenants: 0 })).toThrow(RangeError);
    expect(run({ cacheFraction: 1.5 })).toThrow(/cacheFraction/);
    expect(run({ ratePerSecond: 0 })).toThrow(/ratePerSecond/);
    expect(run({ start: "yesterday" })).toThrow(/start/);
    expect(run({ accountId: "1234" })).toThrow(/accountId/);
    expect(run({ count: 1.5 })).toThrow(/count/);
  });

  it("generates an endless stream lazily (speed is measured by pnpm bench, not here)", () => {
    let n = 0;
    for (const item of generateTraffic({ seed: 8, count: Number.POSITIVE_INFINITY })) {
      if (item.kind === "record") n++;
      if (n === 5_000) break;
    }
    expect(n).toBe(5_000);
  });
});

describe("generateTraffic: billing dimensions (billingDimensions)", () => {
  const withDimensions = [...generateTraffic({ seed: 20261127, count: 30_000, billingDimensions: true })];
  const dimensionRecords = records(withDimensions);
  const parsed = dimensionRecords.map((record) => {
    const result = parseInvocationLog(JSON.parse(JSON.stringify(record)));
    if (!result.ok) throw new Error(result.reason);
    return { record, log: result.log };
  });

  it("leaves the reference workload as it was when not asked for", () => {
    // Act
    const dimensionsSaid = sampleRecords.filter((record) => {
      const result = parseInvocationLog(JSON.parse(JSON.stringify(record)));
      return result.ok && (result.log.latency !== null || result.log.serviceTier !== null || result.log.cacheWrite1hTokens !== null);
    });

    // Assess
    expect(dimensionsSaid).toEqual([]);
    expect(lines({ seed: 7, count: 300, billingDimensions: false })).toBe(lines({ seed: 7, count: 300 }));
  });

  it("is deterministic", () => {
    // Assess
    expect(lines({ seed: 7, count: 1000, billingDimensions: true })).toBe(lines({ seed: 7, count: 1000, billingDimensions: true }));
  });

  it("prices every record it marks priced, dimensions included", () => {
    // Act
    const problems = withDimensions.flatMap((item) => {
      if (item.kind !== "record" || !item.priced) return [];
      const [decoded] = decodeText(itemLine(item));
      const outcome = decoded ? pricer.priceItem(decoded) : undefined;
      return outcome?.kind === "usage" && outcome.usage.record.status === "priced"
        ? []
        : [`${item.record.requestId}: ${outcome?.kind === "usage" ? outcome.usage.record.reason : outcome?.kind}`];
    });

    // Assess
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it("makes about 3% of the uncached calls to latency-optimized models optimized, read back from the log", () => {
    // Arrange
    const capable = parsed.filter(({ record }) => /nova-pro/.test(record.modelId) && !record.input.cacheReadInputTokenCount);

    // Act
    const optimized = capable.filter(({ log }) => log.latency === "optimized").length;

    // Assess
    expect(parsed.filter(({ log }) => log.latency === "optimized").length).toBe(optimized);
    expect(optimized / capable.length).toBeGreaterThan(0.015);
    expect(optimized / capable.length).toBeLessThan(0.045);
  });

  it("puts about 2% of uncached Converse calls to tiered models on flex and 1% on priority, and says nothing of InvokeModel's tier", () => {
    // Arrange
    const converse = parsed.filter(
      ({ record }) => record.operation.startsWith("Converse") && /nova-2-lite/.test(record.modelId) && !record.input.cacheReadInputTokenCount,
    );
    const share = (tier: string) => converse.filter(({ log }) => log.serviceTier === tier).length / converse.length;

    // Assess
    expect(share("flex")).toBeGreaterThan(0.01);
    expect(share("flex")).toBeLessThan(0.03);
    expect(share("priority")).toBeGreaterThan(0.003);
    expect(share("priority")).toBeLessThan(0.02);
    expect(parsed.filter(({ log }) => log.serviceTier !== null).length).toBe(converse.filter(({ log }) => log.serviceTier !== null).length);
    expect(parsed.filter(({ record, log }) => record.operation.startsWith("Invoke") && log.serviceTier !== null)).toEqual([]);
  });

  it("writes about 10% of Claude 4.5+ cache writes for an hour, and splits every Claude write by TTL", () => {
    // Arrange
    const claudeWrites = parsed.filter(({ record }) => record.modelId.includes("anthropic") && (record.input.cacheWriteInputTokenCount ?? 0) > 0);
    const recent = claudeWrites.filter(({ record }) => /claude-(haiku|sonnet|opus)-4-[5-9]|application-inference-profile/.test(record.modelId));

    // Act
    const hour = recent.filter(({ log }) => (log.cacheWrite1hTokens ?? 0) > 0);

    // Assess
    expect(claudeWrites.filter(({ log }) => log.cacheWrite1hTokens === null)).toEqual([]);
    expect(claudeWrites.filter(({ record }) => !recent.some((entry) => entry.record === record)).every(({ log }) => log.cacheWrite1hTokens === 0)).toBe(true);
    expect(hour.length / recent.length).toBeGreaterThan(0.05);
    expect(hour.length / recent.length).toBeLessThan(0.15);
    for (const { record, log } of hour) expect(log.cacheWrite1hTokens).toBe(record.input.cacheWriteInputTokenCount);
  });

  it("keeps the body size, pricing and validity of the reference workload", () => {
    // Act
    const average = dimensionRecords.reduce((sum, record) => sum + bodySize(record), 0) / dimensionRecords.length;
    const unpriced = withDimensions.filter((item) => item.kind === "record" && !item.priced).length;

    // Assess
    expect(Math.abs(average - 2048) / 2048).toBeLessThan(0.03);
    expect(unpriced / withDimensions.length).toBeLessThan(0.0045);
    for (const record of dimensionRecords.slice(0, 2000)) expect(jsonLength(record)).toBe(JSON.stringify(record).length);
  });
});

describe("generateTraffic: per-tenant application inference profiles (tenantProfiles)", () => {
  const specs = tenantProfileSpecs({ tenants: 20 });
  const arns = Object.fromEntries(
    specs.map((spec, index) => [spec.tenantId, `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/tenant${String(index).padStart(7, "0")}`]),
  );
  // No malformed or untagged lines: those of a profile tenant differ too, without naming their tenant.
  const options = { seed: 9, count: 2000, tenants: 20, malformedFraction: 0, untaggedFraction: 0 };

  it("sends the profile tenants' priced calls through their profile, every other one without metadata, and leaves every other record as it was", () => {
    const plain = [...generateTraffic(options)];
    const withProfiles = [...generateTraffic({ ...options, tenantProfiles: arns })];

    expect(withProfiles).toHaveLength(plain.length);
    let throughProfile = 0;
    let withoutMetadata = 0;
    for (const [index, item] of withProfiles.entries()) {
      const before = plain[index] as TrafficItem;
      const tenant = before.kind === "record" ? before.record.requestMetadata?.tenantId : undefined;
      const arn = tenant !== undefined && before.kind === "record" && before.priced ? arns[tenant] : undefined;
      if (arn === undefined || item.kind !== "record" || before.kind !== "record") {
        expect(item).toEqual(before);
        continue;
      }
      throughProfile++;
      expect(item.record.modelId).toBe(arn);
      if (item.record.requestMetadata === undefined) withoutMetadata++;
      else expect(item.record.requestMetadata).toEqual(before.record.requestMetadata);
      expect({ ...item.record, modelId: before.record.modelId, requestMetadata: before.record.requestMetadata }).toEqual(before.record);
    }
    expect(throughProfile).toBeGreaterThan(100);
    expect(withoutMetadata).toBeGreaterThan(throughProfile / 3);
    expect(withoutMetadata).toBeLessThan((throughProfile * 2) / 3);
  });

  it("describes three tenants' profiles with the tagging conventions the default tag keys read, copying a us, a global and an in-Region model", () => {
    expect(specs.map((spec) => spec.tenantId)).toEqual([tenantAt(2, 20).tenantId, tenantAt(4, 20).tenantId, tenantAt(7, 20).tenantId]);
    expect(specs.map((spec) => spec.copyFrom)).toEqual([
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
    ]);
    const attributor = new Attributor(DEFAULT_TAG_KEYS);
    for (const spec of specs) expect(attributor.attribute(spec.tags).tenantId).toBe(spec.tenantId);
    expect(tenantProfileSpecs({ tenants: 5 }).map((spec) => spec.tenantId)).toEqual([tenantAt(2, 5).tenantId, tenantAt(4, 5).tenantId]);
  });
});
