import { createRequire as topLevelCreateRequire } from 'module';const require = topLevelCreateRequire(import.meta.url);
var __defProp = Object.defineProperty;
var __name = (target, value) => __defProp(target, "name", { value, configurable: true });

// sst.config.ts
import { Aspects, CfnResource as CfnResource2 } from "aws-cdk-lib";

// stacks/Alerts.ts
import { Duration as Duration3 } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam3 from "aws-cdk-lib/aws-iam";
import * as kms2 from "aws-cdk-lib/aws-kms";
import * as lambda2 from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq as SqsDlq2 } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs2 from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction2, use as use2 } from "sst/constructs";

// functions/src/lib/contracts.ts
var SERVICE_NAME = "bedrock-spend";
var METRICS_NAMESPACE = "BedrockSpend";
var SERVICE_DIMENSION = "service";
var TRANSFORM_DIMENSIONS = { consumer: "transform" };
var AGGREGATE_METRICS = {
  /** Log events in the batch. */
  logEvents: { name: "RecordsIn" },
  /** Invocations counted for the first time. */
  counted: { name: "Counted" },
  /** Invocations already counted (replays, redeliveries). */
  duplicates: { name: "Duplicates" },
  /** Control messages and permission lines, skipped on purpose. */
  dropped: { name: "Dropped" },
  /** Unreadable lines sent to the dead-letter queue. */
  quarantined: { name: "Quarantined" },
  /** Invocations counted without a price (alarmed: an invocation is never silently free). */
  unpriced: { name: "Unpriced" },
  /** Invocations whose write failed (their records are retried). */
  failed: { name: "WriteFailures" },
  /** DynamoDB write units the batch consumed. */
  writeUnits: { name: "WriteUnits" },
  /** Cost counted, in micro-dollars (truncated: a dashboard signal, not a ledger). */
  costMicroUsd: { name: "CostMicroUSD" },
  /** Largest arrival-to-processing lag in the batch. */
  maxLagMs: { name: "IteratorLagMs", unit: "Milliseconds" }
};
var TRANSFORM_METRICS = {
  /** Firehose records in the invocation. */
  recordsIn: { name: "RecordsIn" },
  /** Lake rows written (priced and unpriced). */
  usageRows: { name: "UsageRows" },
  /** Lake rows without a price. */
  unpricedRows: { name: "UnpricedRows" },
  /** Log events that are not valid invocation records. */
  invalidRecords: { name: "InvalidRecords" },
  /** Firehose records dropped on purpose (control messages). */
  dropped: { name: "Dropped" },
  /** Records returned `ProcessingFailed` for their content (kept under the lake's error prefix). */
  processingFailed: { name: "ProcessingFailed" },
  /** Records returned `ProcessingFailed` because the response would exceed Firehose's limit. */
  oversizeFailed: { name: "OversizeFailed" },
  /** Rows written under another day's partition than their own (a payload across midnight UTC). */
  crossPartitionRows: { name: "CrossPartitionRows" },
  /** Size of the response to Firehose. */
  responseBytes: { name: "ResponseBytes", unit: "Bytes" },
  /** Cost of the rows written, in micro-dollars (truncated, as the aggregate function sends it). */
  costMicroUsd: { name: "CostMicroUSD" }
};

// packages/store/src/keys.ts
function escapeKeyComponent(value) {
  return value.replace(/%/g, "%25").replace(/#/g, "%23");
}
__name(escapeKeyComponent, "escapeKeyComponent");
function tenantPk(tenantId) {
  return `T#${escapeKeyComponent(tenantId)}`;
}
__name(tenantPk, "tenantPk");
function monthSk(month) {
  return `M#${month}`;
}
__name(monthSk, "monthSk");
var BUDGET_SK = "BUDGET";
function dedupKey(requestId) {
  return { pk: `R#${escapeKeyComponent(requestId)}`, sk: "R" };
}
__name(dedupKey, "dedupKey");

// packages/store/src/layout.ts
var PK = "pk";
var SK = "sk";
var TTL_ATTRIBUTE = "expiresAt";

// stacks/config.ts
import { z } from "zod";

// packages/core/src/errors.ts
var BedrockSpendError = class extends Error {
  static {
    __name(this, "BedrockSpendError");
  }
  constructor(message, options) {
    super(message, options);
    this.name = "BedrockSpendError";
  }
};
var CatalogValidationError = class extends BedrockSpendError {
  static {
    __name(this, "CatalogValidationError");
  }
  issues;
  constructor(issues, options) {
    const lines = issues.slice(0, 20).map(formatCatalogIssue);
    const more = issues.length > 20 ? `
  ... and ${issues.length - 20} more` : "";
    super(`invalid price catalog (${issues.length} problem${issues.length === 1 ? "" : "s"}):
  ${lines.join("\n  ")}${more}`, options);
    this.name = "CatalogValidationError";
    this.issues = issues;
  }
};
function formatCatalogIssue(issue) {
  const entry = issue.entry ? ` (${issue.entry})` : "";
  return `${issue.origin}: ${issue.path}${entry}: ${issue.message}`;
}
__name(formatCatalogIssue, "formatCatalogIssue");

// packages/core/src/model.ts
var PROFILE_PREFIXES = ["global", "us", "eu", "apac", "jp", "au", "us-gov"];
var PREFIX_SET = new Set(PROFILE_PREFIXES);

// packages/core/src/money.ts
var MAX_PRICE_FRACTION_DIGITS = 6;
var DECIMAL = /^(\d+)(?:\.(\d+))?$/;
function parseScaledDecimal(text, scale) {
  const match = DECIMAL.exec(text);
  if (!match)
    return void 0;
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > scale)
    return void 0;
  return BigInt(whole + fraction.padEnd(scale, "0"));
}
__name(parseScaledDecimal, "parseScaledDecimal");
function pricePerMillionToPicoPerToken(text) {
  return parseScaledDecimal(text, MAX_PRICE_FRACTION_DIGITS);
}
__name(pricePerMillionToPicoPerToken, "pricePerMillionToPicoPerToken");

// packages/core/src/catalog.ts
var CATALOG_UNIT = "per_million_tokens";
var CATALOG_CURRENCY = "USD";
var TOKEN_CLASSES = ["input", "output", "cacheRead", "cacheWrite"];
var RATE_CLASSES = [...TOKEN_CLASSES, "cacheWrite1h"];
var PRICED_SERVICE_TIERS = ["flex", "priority", "reserved"];
var CONFIDENCE_LEVELS = ["primary", "secondary", "bill"];
var PROFILE_SELECTORS = /* @__PURE__ */ new Set([...PROFILE_PREFIXES, "none", "*"]);
var DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
var ENTRY_KEYS = /* @__PURE__ */ new Set([
  "model",
  "profile",
  "region",
  "effectiveFrom",
  "effectiveTo",
  "input",
  "output",
  "cacheRead",
  "cacheWrite",
  "cacheWrite1h",
  "longContext",
  "latencyOptimized",
  "tiers",
  "source",
  "checked",
  "confidence",
  "note"
]);
var RATE_KEYS = new Set(RATE_CLASSES);
var LONG_CONTEXT_KEYS = /* @__PURE__ */ new Set(["aboveInputTokens", ...RATE_CLASSES]);
var TIER_NAMES = new Set(PRICED_SERVICE_TIERS);
var CONFIDENCES = new Set(CONFIDENCE_LEVELS);
function parseDate(text) {
  const match = DATE.exec(text);
  if (!match)
    return void 0;
  const [, y, m, d] = match;
  const time = Date.UTC(Number(y), Number(m) - 1, Number(d));
  return new Date(time).toISOString().startsWith(text) ? time : void 0;
}
__name(parseDate, "parseDate");
function dateText(epoch) {
  return epoch === null ? "open" : new Date(epoch).toISOString().slice(0, 10);
}
__name(dateText, "dateText");
function label(raw) {
  if (typeof raw.model !== "string")
    return void 0;
  return `${raw.model}, profile ${String(raw.profile ?? "?")}, region ${String(raw.region ?? "?")}, from ${String(raw.effectiveFrom ?? "?")}`;
}
__name(label, "label");
function validateCatalog(json, origin) {
  const issues = [];
  const problem = /* @__PURE__ */ __name((path, message, entry) => {
    const issue = { origin, path, message };
    if (entry !== void 0)
      issue.entry = entry;
    issues.push(issue);
  }, "problem");
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new CatalogValidationError([
      {
        origin,
        path: "$",
        message: "must be a JSON object with version, currency, unit and models"
      }
    ]);
  }
  const file = json;
  if (typeof file.version !== "string" || file.version.trim().length === 0)
    problem("version", "must be a non-empty string");
  if (file.currency !== CATALOG_CURRENCY)
    problem("currency", `must be "${CATALOG_CURRENCY}", got ${JSON.stringify(file.currency)}`);
  if (file.unit !== CATALOG_UNIT) {
    problem("unit", `must be "${CATALOG_UNIT}" (USD per 1,000,000 tokens), got ${JSON.stringify(file.unit)}; convert the file rather than risk a 1000x error`);
  }
  if (!Array.isArray(file.models)) {
    problem("models", "must be an array of price entries");
    throw new CatalogValidationError(issues);
  }
  const entries = [];
  file.models.forEach((value, index) => {
    const path = `models[${index}]`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problem(path, "must be an object");
      return;
    }
    const raw = value;
    const entryLabel = label(raw);
    const before = issues.length;
    const at = /* @__PURE__ */ __name((field, message) => problem(`${path}.${field}`, message, entryLabel), "at");
    for (const key of Object.keys(raw))
      if (!ENTRY_KEYS.has(key))
        at(key, "is not a known field (typo?)");
    if (typeof raw.model !== "string" || raw.model.length === 0)
      at("model", "must be a non-empty model id");
    else if (raw.model.startsWith("arn:"))
      at("model", "must be a base model id, not an ARN");
    else if (/^(global|us|eu|apac|jp|au|us-gov)\./.test(raw.model))
      at("model", "must be a base model id without a profile prefix; put the prefix in profile");
    if (typeof raw.profile !== "string" || !PROFILE_SELECTORS.has(raw.profile)) {
      at("profile", `must be one of ${[...PROFILE_SELECTORS].join(", ")}, got ${JSON.stringify(raw.profile)}`);
    }
    if (typeof raw.region !== "string" || !(raw.region === "*" || /^[a-z]{2}(-[a-z]+)+-\d+$/.test(raw.region))) {
      at("region", `must be an AWS Region or "*", got ${JSON.stringify(raw.region)}`);
    }
    const from = typeof raw.effectiveFrom === "string" ? parseDate(raw.effectiveFrom) : void 0;
    if (from === void 0)
      at("effectiveFrom", `must be a YYYY-MM-DD date, got ${JSON.stringify(raw.effectiveFrom)}`);
    let to = null;
    if (raw.effectiveTo !== null && raw.effectiveTo !== void 0) {
      to = typeof raw.effectiveTo === "string" ? parseDate(raw.effectiveTo) : void 0;
      if (to === void 0)
        at("effectiveTo", `must be a YYYY-MM-DD date or null, got ${JSON.stringify(raw.effectiveTo)}`);
      else if (from !== void 0 && to <= from)
        at("effectiveTo", `must be after effectiveFrom (${String(raw.effectiveFrom)})`);
    }
    const rates = parseRates(raw, at, "");
    let longContext = null;
    const tierRaw = rateBlock(raw.longContext, "longContext", LONG_CONTEXT_KEYS, at);
    if (tierRaw) {
      const above = tierRaw.aboveInputTokens;
      if (typeof above !== "number" || !Number.isInteger(above) || above <= 0)
        at("longContext.aboveInputTokens", "must be a positive integer");
      const tierRates = parseRates(tierRaw, at, "longContext.");
      for (const rateClass of RATE_CLASSES) {
        if (rates[rateClass] !== void 0 && tierRates[rateClass] === void 0) {
          at(`longContext.${rateClass}`, `is missing: the entry prices ${rateClass}, so its long-context tier must too`);
        }
      }
      if (typeof above === "number")
        longContext = { aboveInputTokens: above, rates: tierRates };
    }
    const latencyRaw = rateBlock(raw.latencyOptimized, "latencyOptimized", RATE_KEYS, at);
    const latencyOptimized = latencyRaw ? parseRates(latencyRaw, at, "latencyOptimized.") : null;
    const tiers = {};
    if (raw.tiers !== void 0 && raw.tiers !== null) {
      if (typeof raw.tiers !== "object" || Array.isArray(raw.tiers))
        at("tiers", `must be an object keyed by service tier (${PRICED_SERVICE_TIERS.join(", ")})`);
      else {
        for (const [tier, block] of Object.entries(raw.tiers)) {
          if (!TIER_NAMES.has(tier)) {
            at(`tiers.${tier}`, `is not a service tier with its own rates (${PRICED_SERVICE_TIERS.join(", ")}; the default tier is the entry's own rates)`);
            continue;
          }
          const blockRaw = rateBlock(block, `tiers.${tier}`, RATE_KEYS, at);
          if (blockRaw)
            tiers[tier] = parseRates(blockRaw, at, `tiers.${tier}.`);
        }
      }
    }
    const provenance = parseProvenance(raw, at);
    if (issues.length > before || from === void 0 || to === void 0)
      return;
    entries.push({
      model: raw.model,
      profile: raw.profile,
      region: raw.region,
      effectiveFrom: from,
      effectiveTo: to,
      rates,
      longContext,
      latencyOptimized,
      tiers,
      provenance,
      origin,
      path,
      declared: { effectiveFrom: from, effectiveTo: to },
      json: raw
    });
  });
  issues.push(...findOverlaps(entries));
  if (issues.length > 0)
    throw new CatalogValidationError(issues);
  return { version: file.version.trim(), entries };
}
__name(validateCatalog, "validateCatalog");
function rateBlock(value, field, keys, at) {
  if (value === void 0 || value === null)
    return void 0;
  if (typeof value !== "object" || Array.isArray(value)) {
    at(field, "must be an object of rates (input, output, cacheRead, cacheWrite, cacheWrite1h)");
    return void 0;
  }
  const block = value;
  for (const key of Object.keys(block))
    if (!keys.has(key))
      at(`${field}.${key}`, "is not a known field (typo?)");
  return block;
}
__name(rateBlock, "rateBlock");
function parseProvenance(raw, at) {
  const text = /* @__PURE__ */ __name((field) => {
    const value = raw[field];
    if (value === void 0 || value === null)
      return null;
    if (typeof value !== "string" || value.trim().length === 0) {
      at(field, "must be a non-empty string");
      return null;
    }
    return value;
  }, "text");
  const source = text("source");
  let checked = null;
  if (raw.checked !== void 0 && raw.checked !== null) {
    if (typeof raw.checked === "string" && parseDate(raw.checked) !== void 0)
      checked = raw.checked;
    else
      at("checked", `must be the YYYY-MM-DD date the source was read, got ${JSON.stringify(raw.checked)}`);
  }
  let confidence = null;
  if (raw.confidence !== void 0 && raw.confidence !== null) {
    if (typeof raw.confidence === "string" && CONFIDENCES.has(raw.confidence))
      confidence = raw.confidence;
    else
      at("confidence", `must be ${CONFIDENCE_LEVELS.map((level) => `"${level}"`).join(" or ")}, got ${JSON.stringify(raw.confidence)}`);
  }
  return { source, checked, confidence, note: text("note") };
}
__name(parseProvenance, "parseProvenance");
function parseRates(raw, at, prefix) {
  const rates = {};
  for (const tokenClass of RATE_CLASSES) {
    const value = raw[tokenClass];
    const required = tokenClass === "input" || tokenClass === "output";
    if (value === void 0 || value === null) {
      if (required)
        at(`${prefix}${tokenClass}`, "is missing (a decimal string, USD per million tokens)");
      continue;
    }
    if (typeof value !== "string") {
      at(`${prefix}${tokenClass}`, `must be a decimal string such as "3.00", got ${JSON.stringify(value)} (numbers are refused to keep prices exact)`);
      continue;
    }
    if (value.trim().startsWith("-")) {
      at(`${prefix}${tokenClass}`, `must not be negative, got "${value}"`);
      continue;
    }
    const rate = pricePerMillionToPicoPerToken(value);
    if (rate === void 0) {
      at(`${prefix}${tokenClass}`, `must be a decimal string with at most ${MAX_PRICE_FRACTION_DIGITS} fractional digits, got "${value}"`);
      continue;
    }
    rates[tokenClass] = rate;
  }
  return rates;
}
__name(parseRates, "parseRates");
function selectorKey(entry) {
  return `${entry.model}\0${entry.profile}\0${entry.region}`;
}
__name(selectorKey, "selectorKey");
function describeEntry(entry) {
  return `${entry.model}, profile ${entry.profile}, region ${entry.region}, ${dateText(entry.effectiveFrom)} to ${dateText(entry.effectiveTo)} (${entry.origin})`;
}
__name(describeEntry, "describeEntry");
function findOverlaps(entries) {
  const bySelector = /* @__PURE__ */ new Map();
  for (const entry of entries) {
    const key = selectorKey(entry);
    const list = bySelector.get(key);
    if (list)
      list.push(entry);
    else
      bySelector.set(key, [entry]);
  }
  const issues = [];
  for (const list of bySelector.values()) {
    list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1];
      const current2 = list[i];
      if (previous.effectiveTo === null || previous.effectiveTo > current2.effectiveFrom) {
        issues.push({
          origin: current2.origin,
          path: "models",
          entry: describeEntry(current2),
          message: `effective range overlaps ${describeEntry(previous)}; close the earlier one with effectiveTo (the entries of one file may not overlap; a file laid over another wins at the dates it covers)`
        });
      }
    }
  }
  return issues;
}
__name(findOverlaps, "findOverlaps");
var PriceCatalog = class _PriceCatalog {
  static {
    __name(this, "PriceCatalog");
  }
  version;
  entries;
  byModel;
  constructor(version, entries) {
    this.version = version;
    this.entries = entries;
    const byModel = /* @__PURE__ */ new Map();
    for (const entry of entries) {
      const list = byModel.get(entry.model);
      if (list)
        list.push(entry);
      else
        byModel.set(entry.model, [entry]);
    }
    this.byModel = byModel;
  }
  /** Validates one catalog file. */
  static fromJson(json, origin) {
    const { version, entries } = validateCatalog(json, origin);
    return new _PriceCatalog(version, entries);
  }
  /**
   * Lays `other` over this catalog. For each selector (model, profile, region) the overlay has
   * entries for, its entries win at every date they cover: the entries beneath keep only the dates
   * no overlay entry covers (a range may be cut in two). Selectors the overlay does not name keep
   * their entries whole. The version becomes `base+overlay`.
   */
  overlay(other) {
    const covering = /* @__PURE__ */ new Map();
    for (const entry of other.entries) {
      const key = selectorKey(entry);
      const list = covering.get(key);
      if (list)
        list.push(entry);
      else
        covering.set(key, [entry]);
    }
    for (const list of covering.values())
      list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
    const merged = [];
    for (const entry of this.entries) {
      const over = covering.get(selectorKey(entry));
      if (over)
        merged.push(...uncoveredPieces(entry, over));
      else
        merged.push(entry);
    }
    merged.push(...other.entries);
    return new _PriceCatalog(`${this.version}+${other.version}`, merged);
  }
  /** Whether any entry prices this base model id (at any date or tier). */
  knowsModel(model) {
    return this.byModel.has(model);
  }
  /**
   * Finds the entry that prices `query`: among entries for the model whose effective range holds
   * the timestamp (UTC dates, from inclusive, to exclusive), the most specific wins, profile
   * before region: exact profile and exact region, then exact profile, then exact region, then
   * `*` for both.
   */
  lookup(query) {
    const candidates = this.byModel.get(query.model);
    if (!candidates)
      return void 0;
    let best;
    let bestScore = -1;
    for (const entry of candidates) {
      const score = matchScore(entry, query);
      if (score > bestScore) {
        best = entry;
        bestScore = score;
      }
    }
    return best;
  }
  /**
   * Says which entry prices `query` and why: every entry of the model, whether it applies, and
   * when not, what rules it out (another profile or region, out of its range, a more specific
   * selector, the dates an overlay covers).
   */
  explain(query) {
    const chosen = this.lookup(query);
    const considered = (this.byModel.get(query.model) ?? []).map((entry) => {
      const reason = entry === chosen ? "applies" : whyNot(entry, query, chosen);
      return { entry, applies: entry === chosen, reason };
    });
    return { query, entry: chosen, considered };
  }
};
function matchScore(entry, query) {
  if (query.timestamp < entry.effectiveFrom)
    return -1;
  if (entry.effectiveTo !== null && query.timestamp >= entry.effectiveTo)
    return -1;
  const profileExact = entry.profile === query.pricingProfile;
  if (!profileExact && entry.profile !== "*")
    return -1;
  const regionExact = query.region !== null && entry.region === query.region;
  if (!regionExact && entry.region !== "*")
    return -1;
  return (profileExact ? 2 : 0) + (regionExact ? 1 : 0);
}
__name(matchScore, "matchScore");
function whyNot(entry, query, chosen) {
  if (entry.profile !== "*" && entry.profile !== query.pricingProfile)
    return `profile ${entry.profile} is not ${query.pricingProfile}`;
  if (entry.region !== "*" && entry.region !== query.region)
    return `region ${entry.region} is not ${query.region ?? "unknown (not logged)"}`;
  const inDeclared = query.timestamp >= entry.declared.effectiveFrom && (entry.declared.effectiveTo === null || query.timestamp < entry.declared.effectiveTo);
  const outside = query.timestamp < entry.effectiveFrom || entry.effectiveTo !== null && query.timestamp >= entry.effectiveTo;
  if (outside && inDeclared)
    return `an overlay covers ${formatCatalogDate(query.timestamp)} for this selector (this entry applies ${rangeText(entry)})`;
  if (outside)
    return `not in effect on ${formatCatalogDate(query.timestamp)} (${rangeText(entry)})`;
  return chosen ? `less specific than ${selectorText(chosen)}` : "not chosen";
}
__name(whyNot, "whyNot");
function rangeText(entry) {
  return `${dateText(entry.effectiveFrom)} to ${entry.effectiveTo === null ? "open" : dateText(entry.effectiveTo)}`;
}
__name(rangeText, "rangeText");
function selectorText(entry) {
  return `profile ${entry.profile}, region ${entry.region}`;
}
__name(selectorText, "selectorText");
function uncoveredPieces(entry, over) {
  const pieces = [];
  const end = entry.effectiveTo ?? Number.POSITIVE_INFINITY;
  let cursor = entry.effectiveFrom;
  for (const cover of over) {
    const coverEnd = cover.effectiveTo ?? Number.POSITIVE_INFINITY;
    if (coverEnd <= cursor)
      continue;
    if (cover.effectiveFrom >= end)
      break;
    if (cover.effectiveFrom > cursor)
      pieces.push({ ...entry, effectiveFrom: cursor, effectiveTo: cover.effectiveFrom });
    cursor = coverEnd;
    if (cursor >= end)
      break;
  }
  if (cursor < end)
    pieces.push({ ...entry, effectiveFrom: cursor, effectiveTo: entry.effectiveTo });
  return pieces;
}
__name(uncoveredPieces, "uncoveredPieces");
function formatCatalogDate(epoch) {
  return dateText(epoch);
}
__name(formatCatalogDate, "formatCatalogDate");

// packages/core/src/catalog/defaults.json
var defaults_default = {
  version: "2026-12-01",
  currency: "USD",
  unit: "per_million_tokens",
  models: [
    {
      model: "amazon.nova-2-lite-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.33",
      output: "2.75",
      cacheRead: "0.0825",
      tiers: {
        flex: {
          input: "0.165",
          output: "1.375"
        },
        priority: {
          input: "0.5775",
          output: "4.8125"
        }
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; cacheRead 25% of input (AWS: 75% less)"
    },
    {
      model: "amazon.nova-2-lite-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.30",
      output: "2.50",
      cacheRead: "0.075",
      tiers: {
        flex: {
          input: "0.15",
          output: "1.25"
        },
        priority: {
          input: "0.525",
          output: "4.375"
        }
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; cacheRead 25% of input"
    },
    {
      model: "amazon.nova-2-multimodal-embeddings-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-10-28",
      effectiveTo: null,
      input: "0.135",
      output: "0",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "amazon.nova-2-pro-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "1.375",
      output: "11.00",
      cacheRead: "0.34375",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Preview; Ohio rate; cacheRead derived 25%; from = Nova 2 release"
    },
    {
      model: "amazon.nova-2-pro-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "1.25",
      output: "10.00",
      cacheRead: "0.3125",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/amazon.nova-2-pro-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "derived geo/1.1 as Nova 2 Lite (= us-west-2 row)"
    },
    {
      model: "amazon.nova-lite-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.06",
      output: "0.24",
      cacheRead: "0.015",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; cacheRead 25% of input (AWS: 75% less)"
    },
    {
      model: "amazon.nova-lite-v1:0",
      profile: "apac",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.063",
      output: "0.252",
      cacheRead: "0.01575",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "apac. (Sydney) rate; cacheRead derived 25%"
    },
    {
      model: "amazon.nova-lite-v1:0",
      profile: "eu",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.078",
      output: "0.312",
      cacheRead: "0.0195",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "eu. rate; varies by source Region; cacheRead derived 25%"
    },
    {
      model: "amazon.nova-micro-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.035",
      output: "0.14",
      cacheRead: "0.00875",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; cacheRead 25% of input (AWS: 75% less)"
    },
    {
      model: "amazon.nova-micro-v1:0",
      profile: "apac",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.037",
      output: "0.148",
      cacheRead: "0.00925",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/amazon.nova-micro-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "ap-southeast-2 rate; cacheRead derived 25%"
    },
    {
      model: "amazon.nova-micro-v1:0",
      profile: "eu",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.046",
      output: "0.184",
      cacheRead: "0.0115",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/amazon.nova-micro-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "eu-central-1 rate; cacheRead derived 25%"
    },
    {
      model: "amazon.nova-premier-v1:0",
      profile: "us",
      region: "*",
      effectiveFrom: "2025-04-30",
      effectiveTo: null,
      input: "2.50",
      output: "12.50",
      cacheRead: "0.625",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "amazon.nova-pro-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.80",
      output: "3.20",
      cacheRead: "0.20",
      latencyOptimized: {
        input: "1.00",
        output: "4.00"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; cacheRead 25% of input"
    },
    {
      model: "amazon.nova-pro-v1:0",
      profile: "apac",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "0.84",
      output: "3.36",
      cacheRead: "0.21",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "apac. rate; cacheRead derived 25%"
    },
    {
      model: "amazon.nova-pro-v1:0",
      profile: "eu",
      region: "*",
      effectiveFrom: "2024-12-03",
      effectiveTo: null,
      input: "1.05",
      output: "4.20",
      cacheRead: "0.2625",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "eu. rate; cacheRead derived 25%"
    },
    {
      model: "amazon.titan-embed-image-v1",
      profile: "*",
      region: "*",
      effectiveFrom: "2023-11-29",
      effectiveTo: null,
      input: "0.80",
      output: "0",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "per-image charge not modelled"
    },
    {
      model: "amazon.titan-embed-text-v1",
      profile: "*",
      region: "*",
      effectiveFrom: "2023-09-28",
      effectiveTo: null,
      input: "0.10",
      output: "0",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "amazon.titan-embed-text-v2:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-04-30",
      effectiveTo: null,
      input: "0.02",
      output: "0",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "anthropic.claude-3-5-haiku-20241022-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-11-04",
      effectiveTo: "2024-12-02",
      input: "1.00",
      output: "5.00",
      source: "https://aiwiki.ai/wiki/claude_3_5_haiku",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "Bedrock GA 2024-11-04 (same day as the API) at launch $1/$5; cut to 0.80/4 with the LO launch 2024-12-02"
    },
    {
      model: "anthropic.claude-3-5-haiku-20241022-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-02",
      effectiveTo: null,
      input: "0.80",
      output: "4.00",
      cacheRead: "0.08",
      cacheWrite: "1.00",
      latencyOptimized: {
        input: "1.00",
        output: "5.00"
      },
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary",
      note: "latencyOptimized 1/5 (launched 2024-12-02 as standard fell to 0.80/4): artificialanalysis, AWS page not read"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-10-22",
      effectiveTo: "2025-12-01",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "6.00",
      output: "30.00",
      cacheRead: "0.60",
      cacheWrite: "7.50",
      source: "https://github.com/Helicone/helicone/pull/5709",
      checked: "2026-07-04",
      confidence: "secondary",
      note: "public extended access, 2x, from 2025-12-01"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "ap-northeast-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: "2026-04-30",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "extended access here from 2026-04-30 only (lifecycle table)"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "ap-northeast-3",
      effectiveFrom: "2025-12-01",
      effectiveTo: "2026-04-30",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "extended access here from 2026-04-30 only (lifecycle table)"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "ap-south-2",
      effectiveFrom: "2025-12-01",
      effectiveTo: "2026-04-30",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "extended access here from 2026-04-30 only (lifecycle table)"
    },
    {
      model: "anthropic.claude-3-5-sonnet-20241022-v2:0",
      profile: "*",
      region: "ap-southeast-2",
      effectiveFrom: "2025-12-01",
      effectiveTo: "2026-04-30",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "extended access here from 2026-04-30 only (lifecycle table)"
    },
    {
      model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-02-19",
      effectiveTo: null,
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
      profile: "us-gov",
      region: "*",
      effectiveFrom: "2025-02-19",
      effectiveTo: null,
      input: "3.60",
      output: "18.00",
      cacheRead: "0.36",
      cacheWrite: "4.50",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/us-gov.anthropic.claude-3-7-sonnet-20250219-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "GovCloud 1.2x"
    },
    {
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-03-07",
      effectiveTo: null,
      input: "0.25",
      output: "1.25",
      cacheRead: "0.025",
      cacheWrite: "0.3125",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "cache rates LiteLLM only"
    },
    {
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      profile: "*",
      region: "us-gov-west-1",
      effectiveFrom: "2024-03-07",
      effectiveTo: null,
      input: "0.30",
      output: "1.50",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/us-gov.anthropic.claude-3-haiku-20240307-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "in-Region GovCloud, 1.2x"
    },
    {
      model: "anthropic.claude-3-haiku-20240307-v1:0",
      profile: "us-gov",
      region: "*",
      effectiveFrom: "2024-03-07",
      effectiveTo: null,
      input: "0.30",
      output: "1.50",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/us-gov.anthropic.claude-3-haiku-20240307-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "GovCloud 1.2x; no cache rate found"
    },
    {
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-10-01",
      effectiveTo: null,
      input: "1.10",
      output: "5.50",
      cacheRead: "0.11",
      cacheWrite: "1.375",
      cacheWrite1h: "2.20",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table; geo 1.1x"
    },
    {
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2025-10-01",
      effectiveTo: null,
      input: "1.00",
      output: "5.00",
      cacheRead: "0.10",
      cacheWrite: "1.25",
      cacheWrite1h: "2.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "anthropic.claude-haiku-4-5-20251001-v1:0",
      profile: "us-gov",
      region: "*",
      effectiveFrom: "2025-10-01",
      effectiveTo: null,
      input: "1.20",
      output: "6.00",
      cacheRead: "0.12",
      cacheWrite: "1.50",
      cacheWrite1h: "2.40",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "derived: 1.2x as Sonnet 4.5/3.7 GovCloud; genai-prices 1.1x"
    },
    {
      model: "anthropic.claude-opus-4-1-20250805-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-08-05",
      effectiveTo: null,
      input: "15.00",
      output: "75.00",
      cacheRead: "1.50",
      cacheWrite: "18.75",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "anthropic.claude-opus-4-20250514-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-05-14",
      effectiveTo: null,
      input: "15.00",
      output: "75.00",
      cacheRead: "1.50",
      cacheWrite: "18.75",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "anthropic.claude-opus-4-5-20251101-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-11-01",
      effectiveTo: null,
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; geo = global x1.1"
    },
    {
      model: "anthropic.claude-opus-4-5-20251101-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2025-11-01",
      effectiveTo: null,
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "anthropic.claude-opus-4-6-v1",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-05",
      effectiveTo: "2026-03-13",
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      longContext: {
        aboveInputTokens: 2e5,
        input: "11.00",
        output: "41.25",
        cacheRead: "1.10",
        cacheWrite: "13.75",
        cacheWrite1h: "22.00"
      },
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-02-24",
      confidence: "secondary",
      note: "geo 1.1x; LC tier until 2026-03-13"
    },
    {
      model: "anthropic.claude-opus-4-6-v1",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-03-13",
      effectiveTo: null,
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; geo = global x1.1"
    },
    {
      model: "anthropic.claude-opus-4-6-v1",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-02-05",
      effectiveTo: "2026-03-13",
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      longContext: {
        aboveInputTokens: 2e5,
        input: "10.00",
        output: "37.50",
        cacheRead: "1.00",
        cacheWrite: "12.50",
        cacheWrite1h: "20.00"
      },
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-02-24",
      confidence: "secondary",
      note: "LC tier until 1M went flat 2026-03-13"
    },
    {
      model: "anthropic.claude-opus-4-6-v1",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-03-13",
      effectiveTo: null,
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; LC row = standard"
    },
    {
      model: "anthropic.claude-opus-4-7",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-04-16",
      effectiveTo: null,
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-04-16",
      confidence: "secondary",
      note: "geo 1.1x; 1h write derived 2x input"
    },
    {
      model: "anthropic.claude-opus-4-7",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-04-16",
      effectiveTo: null,
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      source: "https://github.com/BerriAI/litellm/pull/26800",
      checked: "2026-04-29",
      confidence: "secondary",
      note: "rates and 1h write read off the AWS page"
    },
    {
      model: "anthropic.claude-opus-4-8",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-05-28",
      effectiveTo: null,
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table; geo 1.1x"
    },
    {
      model: "anthropic.claude-opus-4-8",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-05-28",
      effectiveTo: null,
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table (AWS-owned)"
    },
    {
      model: "anthropic.claude-opus-5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-24",
      effectiveTo: null,
      input: "5.50",
      output: "27.50",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      cacheWrite1h: "11.00",
      source: "https://github.com/BerriAI/litellm/discussions/34517",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "geo 1.1x"
    },
    {
      model: "anthropic.claude-opus-5",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-24",
      effectiveTo: null,
      input: "5.00",
      output: "25.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      cacheWrite1h: "10.00",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "list rate = Bedrock global"
    },
    {
      model: "anthropic.claude-opus-5-5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-09-22",
      effectiveTo: null,
      input: "4.40",
      output: "22.00",
      cacheRead: "0.22",
      cacheWrite: "5.50",
      cacheWrite1h: "8.80",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "derived: geo 1.1x"
    },
    {
      model: "anthropic.claude-opus-5-5",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-09-22",
      effectiveTo: null,
      input: "4.00",
      output: "20.00",
      cacheRead: "0.20",
      cacheWrite: "5.00",
      cacheWrite1h: "8.00",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "launch per model card; cache read 0.05x"
    },
    {
      model: "anthropic.claude-sonnet-4-20250514-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-05-14",
      effectiveTo: null,
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      longContext: {
        aboveInputTokens: 2e5,
        input: "6.00",
        output: "22.50",
        cacheRead: "0.60",
        cacheWrite: "7.50"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; LC row >200K"
    },
    {
      model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-29",
      effectiveTo: null,
      input: "3.30",
      output: "16.50",
      cacheRead: "0.33",
      cacheWrite: "4.125",
      cacheWrite1h: "6.60",
      longContext: {
        aboveInputTokens: 2e5,
        input: "6.60",
        output: "24.75",
        cacheRead: "0.66",
        cacheWrite: "8.25",
        cacheWrite1h: "13.20"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; geo = global x1.1"
    },
    {
      model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
      profile: "global",
      region: "*",
      effectiveFrom: "2025-09-29",
      effectiveTo: null,
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      cacheWrite1h: "6.00",
      longContext: {
        aboveInputTokens: 2e5,
        input: "6.00",
        output: "22.50",
        cacheRead: "0.60",
        cacheWrite: "7.50",
        cacheWrite1h: "12.00"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; LC row >200K"
    },
    {
      model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
      profile: "us-gov",
      region: "*",
      effectiveFrom: "2025-09-29",
      effectiveTo: null,
      input: "3.60",
      output: "18.00",
      cacheRead: "0.36",
      cacheWrite: "4.50",
      cacheWrite1h: "7.20",
      longContext: {
        aboveInputTokens: 2e5,
        input: "7.20",
        output: "27.00",
        cacheRead: "0.72",
        cacheWrite: "9.00",
        cacheWrite1h: "14.40"
      },
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "GovCloud 1.2x; 1h and LC derived"
    },
    {
      model: "anthropic.claude-sonnet-4-6",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-17",
      effectiveTo: "2026-03-13",
      input: "3.30",
      output: "16.50",
      cacheRead: "0.33",
      cacheWrite: "4.125",
      cacheWrite1h: "6.60",
      longContext: {
        aboveInputTokens: 2e5,
        input: "6.60",
        output: "24.75",
        cacheRead: "0.66",
        cacheWrite: "8.25",
        cacheWrite1h: "13.20"
      },
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-02-24",
      confidence: "secondary",
      note: "geo 1.1x; LC tier until 2026-03-13"
    },
    {
      model: "anthropic.claude-sonnet-4-6",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-03-13",
      effectiveTo: null,
      input: "3.30",
      output: "16.50",
      cacheRead: "0.33",
      cacheWrite: "4.125",
      cacheWrite1h: "6.60",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table; geo 1.1x"
    },
    {
      model: "anthropic.claude-sonnet-4-6",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-02-17",
      effectiveTo: "2026-03-13",
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      cacheWrite1h: "6.00",
      longContext: {
        aboveInputTokens: 2e5,
        input: "6.00",
        output: "22.50",
        cacheRead: "0.60",
        cacheWrite: "7.50",
        cacheWrite1h: "12.00"
      },
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-02-24",
      confidence: "secondary",
      note: "LC tier until 1M went flat 2026-03-13"
    },
    {
      model: "anthropic.claude-sonnet-4-6",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-03-13",
      effectiveTo: null,
      input: "3.00",
      output: "15.00",
      cacheRead: "0.30",
      cacheWrite: "3.75",
      cacheWrite1h: "6.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; LC row = standard"
    },
    {
      model: "anthropic.claude-sonnet-5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-06-30",
      effectiveTo: null,
      input: "2.20",
      output: "11.00",
      cacheRead: "0.22",
      cacheWrite: "2.75",
      cacheWrite1h: "4.40",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table; geo 1.1x; rise cancelled"
    },
    {
      model: "anthropic.claude-sonnet-5",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-06-30",
      effectiveTo: null,
      input: "2.00",
      output: "10.00",
      cacheRead: "0.20",
      cacheWrite: "2.50",
      cacheWrite1h: "4.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-10-05",
      confidence: "primary",
      note: "AWS toolkit table; $2/$10 standard; 3/15 rise cancelled"
    },
    {
      model: "anthropic.claude-sonnet-5-5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-09-28",
      effectiveTo: "2026-10-07",
      input: "2.20",
      output: "11.00",
      cacheRead: "0.22",
      cacheWrite: "2.75",
      cacheWrite1h: "4.40",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "derived: geo 1.1x"
    },
    {
      model: "anthropic.claude-sonnet-5-5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-10-07",
      effectiveTo: null,
      input: "2.20",
      output: "11.00",
      cacheRead: "0.11",
      cacheWrite: "2.75",
      cacheWrite1h: "4.40",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "derived: geo 1.1x"
    },
    {
      model: "anthropic.claude-sonnet-5-5",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-09-28",
      effectiveTo: "2026-10-07",
      input: "2.00",
      output: "10.00",
      cacheRead: "0.20",
      cacheWrite: "2.50",
      cacheWrite1h: "4.00",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "Bedrock ids 2026-09-28"
    },
    {
      model: "anthropic.claude-sonnet-5-5",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-10-07",
      effectiveTo: null,
      input: "2.00",
      output: "10.00",
      cacheRead: "0.10",
      cacheWrite: "2.50",
      cacheWrite1h: "4.00",
      source: "https://platform.claude.com/docs/en/about-claude/pricing",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "read cut 0.05x (Anthropic 2026-10-07); Bedrock assumed same"
    },
    {
      model: "cohere.command-r-plus-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-04-30",
      effectiveTo: null,
      input: "3.00",
      output: "15.00",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "extended-access rate unknown"
    },
    {
      model: "cohere.command-r-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-04-30",
      effectiveTo: null,
      input: "0.50",
      output: "1.50",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "extended-access rate unknown"
    },
    {
      model: "cohere.embed-english-v3",
      profile: "*",
      region: "*",
      effectiveFrom: "2023-11-13",
      effectiveTo: null,
      input: "0.10",
      output: "0",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "cohere.embed-multilingual-v3",
      profile: "*",
      region: "*",
      effectiveFrom: "2023-11-13",
      effectiveTo: null,
      input: "0.10",
      output: "0",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "cohere.embed-v4:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-07-01",
      effectiveTo: null,
      input: "0.12",
      output: "0",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "deepseek.r1-v1:0",
      profile: "us",
      region: "*",
      effectiveFrom: "2025-03-10",
      effectiveTo: null,
      input: "1.35",
      output: "5.40",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "deepseek.v3-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.58",
      output: "1.68",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; V3.1"
    },
    {
      model: "deepseek.v3-v1:0",
      profile: "*",
      region: "ap-southeast-2",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.5974",
      output: "1.7304",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.62",
      output: "1.85",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "ap-northeast-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "ap-south-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "ap-southeast-2",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.6386",
      output: "1.9055",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "ap-southeast-3",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "eu-north-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "deepseek.v3.2",
      profile: "*",
      region: "sa-east-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "deepseek.v3.2",
      profile: "eu",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.74",
      output: "2.22",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "= Stockholm rate"
    },
    {
      model: "google.gemma-3-12b-it",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.09",
      output: "0.29",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "google.gemma-3-27b-it",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.23",
      output: "0.38",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "google.gemma-3-4b-it",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.04",
      output: "0.08",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-1-405b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-07-23",
      effectiveTo: "2024-12-02",
      input: "5.32",
      output: "16.00",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "launch rate; cut = LO launch (LO 3.00 < old rate)"
    },
    {
      model: "meta.llama3-1-405b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-02",
      effectiveTo: null,
      input: "2.40",
      output: "2.40",
      latencyOptimized: {
        input: "3.00",
        output: "3.00"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; 2.50/10 (deploybase) rejected"
    },
    {
      model: "meta.llama3-1-70b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-07-23",
      effectiveTo: "2024-12-02",
      input: "0.99",
      output: "0.99",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "launch rate; cut = LO launch"
    },
    {
      model: "meta.llama3-1-70b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-02",
      effectiveTo: null,
      input: "0.72",
      output: "0.72",
      latencyOptimized: {
        input: "0.90",
        output: "0.90"
      },
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-1-8b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-07-23",
      effectiveTo: null,
      input: "0.22",
      output: "0.22",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-2-11b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-09-25",
      effectiveTo: "2024-12-02",
      input: "0.35",
      output: "0.35",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "launch rate; cut assumed with 3.1 (seen 2024-12-17)"
    },
    {
      model: "meta.llama3-2-11b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-02",
      effectiveTo: null,
      input: "0.16",
      output: "0.16",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-2-1b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-09-25",
      effectiveTo: null,
      input: "0.10",
      output: "0.10",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-2-3b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-09-25",
      effectiveTo: null,
      input: "0.15",
      output: "0.15",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-2-90b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-09-25",
      effectiveTo: "2024-12-02",
      input: "2.00",
      output: "2.00",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "launch rate; cut assumed with 3.1 (seen 2024-12-17)"
    },
    {
      model: "meta.llama3-2-90b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-02",
      effectiveTo: null,
      input: "0.72",
      output: "0.72",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama3-3-70b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-19",
      effectiveTo: null,
      input: "0.72",
      output: "0.72",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama4-maverick-17b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-04-28",
      effectiveTo: null,
      input: "0.24",
      output: "0.97",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "meta.llama4-scout-17b-instruct-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-04-28",
      effectiveTo: null,
      input: "0.17",
      output: "0.66",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "minimax.minimax-m2",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.30",
      output: "1.20",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; models.dev 0.15/0.60 rejected"
    },
    {
      model: "minimax.minimax-m2.1",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-06",
      effectiveTo: null,
      input: "0.30",
      output: "1.20",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; from: models.dev date"
    },
    {
      model: "minimax.minimax-m2.5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-03-18",
      effectiveTo: null,
      input: "0.30",
      output: "1.20",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; from: models.dev date"
    },
    {
      model: "mistral.devstral-2-123b",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-17",
      effectiveTo: null,
      input: "0.40",
      output: "2.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; models.dev 0.20/1.00 rejected"
    },
    {
      model: "mistral.devstral-2-123b",
      profile: "*",
      region: "ap-southeast-3",
      effectiveFrom: "2026-02-17",
      effectiveTo: null,
      input: "0.48",
      output: "2.40",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "mistral.devstral-2-123b",
      profile: "*",
      region: "eu-central-1",
      effectiveFrom: "2026-02-17",
      effectiveTo: null,
      input: "0.48",
      output: "2.40",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "mistral.devstral-2-123b",
      profile: "*",
      region: "eu-north-1",
      effectiveFrom: "2026-02-17",
      effectiveTo: null,
      input: "0.48",
      output: "2.40",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; Regional rate"
    },
    {
      model: "mistral.magistral-small-2509",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.50",
      output: "1.50",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "mistral.ministral-3-14b-instruct",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.20",
      output: "0.20",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "mistral.ministral-3-3b-instruct",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.10",
      output: "0.10",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "mistral.ministral-3-8b-instruct",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.15",
      output: "0.15",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "mistral.mistral-7b-instruct-v0:2",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-03-01",
      effectiveTo: null,
      input: "0.15",
      output: "0.20",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "mistral.mistral-large-2402-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-04-02",
      effectiveTo: "2024-12-17",
      input: "8.00",
      output: "24.00",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary",
      note: "launch rate; cut date unknown: first 4/12 evidence"
    },
    {
      model: "mistral.mistral-large-2402-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-12-17",
      effectiveTo: null,
      input: "4.00",
      output: "12.00",
      source: "https://github.com/danny-avila/LibreChat/pull/5024",
      checked: "2024-12-17",
      confidence: "secondary",
      note: "read off the AWS page"
    },
    {
      model: "mistral.mistral-large-2407-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-07-24",
      effectiveTo: null,
      input: "3.00",
      output: "9.00",
      source: "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json",
      checked: "2026-07-24",
      confidence: "secondary"
    },
    {
      model: "mistral.mistral-large-3-675b-instruct",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.50",
      output: "1.50",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; US rate"
    },
    {
      model: "mistral.mistral-large-3-675b-instruct",
      profile: "*",
      region: "ap-south-1",
      effectiveFrom: "2025-12-01",
      effectiveTo: null,
      input: "0.59",
      output: "1.76",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "mistral.mistral-small-2402-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-05-23",
      effectiveTo: null,
      input: "1.00",
      output: "3.00",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "mistral.mixtral-8x7b-instruct-v0:1",
      profile: "*",
      region: "*",
      effectiveFrom: "2024-03-01",
      effectiveTo: null,
      input: "0.45",
      output: "0.70",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "mistral.pixtral-large-2502-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-04-08",
      effectiveTo: null,
      input: "2.00",
      output: "6.00",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "moonshotai.kimi-k2.5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-06",
      effectiveTo: null,
      input: "0.60",
      output: "3.00",
      source: "https://github.com/anomalyco/models.dev/pull/847",
      checked: "2026-02-10",
      confidence: "secondary",
      note: "from: models.dev date"
    },
    {
      model: "nvidia.nemotron-nano-3-30b",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-04-08",
      effectiveTo: null,
      input: "0.06",
      output: "0.24",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-04-08",
      confidence: "secondary",
      note: "from: first evidence"
    },
    {
      model: "nvidia.nemotron-nano-9b-v2",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-04-08",
      effectiveTo: null,
      input: "0.06",
      output: "0.23",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-04-08",
      confidence: "secondary",
      note: "from: first evidence"
    },
    {
      model: "nvidia.nemotron-super-3-120b",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-04-08",
      effectiveTo: null,
      input: "0.15",
      output: "0.65",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-04-08",
      confidence: "secondary",
      note: "from: first evidence"
    },
    {
      model: "openai.gpt-5.4",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-06-01",
      effectiveTo: null,
      input: "2.75",
      output: "16.50",
      cacheRead: "0.275",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.4",
      profile: "*",
      region: "us-gov-west-1",
      effectiveFrom: "2026-06-01",
      effectiveTo: null,
      input: "3.30",
      output: "19.80",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.5",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-06-01",
      effectiveTo: null,
      input: "5.50",
      output: "33.00",
      cacheRead: "0.55",
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.6-luna",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-07-30",
      input: "1.10",
      output: "6.60",
      cacheRead: "0.11",
      cacheWrite: "1.375",
      longContext: {
        aboveInputTokens: 272e3,
        input: "2.20",
        output: "9.90",
        cacheRead: "0.22",
        cacheWrite: "2.75"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "derived: launch list x1.1"
    },
    {
      model: "openai.gpt-5.6-luna",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-30",
      effectiveTo: null,
      input: "0.22",
      output: "1.32",
      cacheRead: "0.022",
      cacheWrite: "0.275",
      longContext: {
        aboveInputTokens: 272e3,
        input: "0.44",
        output: "1.98",
        cacheRead: "0.044",
        cacheWrite: "0.55"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.6-luna",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-07-30",
      input: "1.00",
      output: "6.00",
      cacheRead: "0.10",
      cacheWrite: "1.25",
      longContext: {
        aboveInputTokens: 272e3,
        input: "2.00",
        output: "9.00",
        cacheRead: "0.20",
        cacheWrite: "2.50"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "launch list = global rate"
    },
    {
      model: "openai.gpt-5.6-luna",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-30",
      effectiveTo: null,
      input: "0.20",
      output: "1.20",
      cacheRead: "0.02",
      cacheWrite: "0.25",
      longContext: {
        aboveInputTokens: 272e3,
        input: "0.40",
        output: "1.80",
        cacheRead: "0.04",
        cacheWrite: "0.50"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.6-sol",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-08-21",
      input: "5.50",
      output: "33.00",
      cacheRead: "0.55",
      cacheWrite: "6.875",
      longContext: {
        aboveInputTokens: 272e3,
        input: "11.00",
        output: "49.50",
        cacheRead: "1.10",
        cacheWrite: "13.75"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "derived: launch list x1.1"
    },
    {
      model: "openai.gpt-5.6-sol",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-08-21",
      effectiveTo: null,
      input: "4.40",
      output: "22.00",
      cacheRead: "0.44",
      cacheWrite: "5.50",
      longContext: {
        aboveInputTokens: 272e3,
        input: "8.80",
        output: "33.00",
        cacheRead: "0.88",
        cacheWrite: "11.00"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit; promo 'at least through 2026-11-21'"
    },
    {
      model: "openai.gpt-5.6-sol",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-08-21",
      input: "5.00",
      output: "30.00",
      cacheRead: "0.50",
      cacheWrite: "6.25",
      longContext: {
        aboveInputTokens: 272e3,
        input: "10.00",
        output: "45.00",
        cacheRead: "1.00",
        cacheWrite: "12.50"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "launch list = global rate"
    },
    {
      model: "openai.gpt-5.6-sol",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-08-21",
      effectiveTo: null,
      input: "4.00",
      output: "20.00",
      cacheRead: "0.40",
      cacheWrite: "5.00",
      longContext: {
        aboveInputTokens: 272e3,
        input: "8.00",
        output: "30.00",
        cacheRead: "0.80",
        cacheWrite: "10.00"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit; promo, end unannounced"
    },
    {
      model: "openai.gpt-5.6-terra",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-07-30",
      input: "2.75",
      output: "16.50",
      cacheRead: "0.275",
      cacheWrite: "3.4375",
      longContext: {
        aboveInputTokens: 272e3,
        input: "5.50",
        output: "24.75",
        cacheRead: "0.55",
        cacheWrite: "6.875"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "derived: launch list x1.1"
    },
    {
      model: "openai.gpt-5.6-terra",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-07-30",
      effectiveTo: null,
      input: "2.20",
      output: "13.20",
      cacheRead: "0.22",
      cacheWrite: "2.75",
      longContext: {
        aboveInputTokens: 272e3,
        input: "4.40",
        output: "19.80",
        cacheRead: "0.44",
        cacheWrite: "5.50"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-5.6-terra",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-13",
      effectiveTo: "2026-07-30",
      input: "2.50",
      output: "15.00",
      cacheRead: "0.25",
      cacheWrite: "3.125",
      longContext: {
        aboveInputTokens: 272e3,
        input: "5.00",
        output: "22.50",
        cacheRead: "0.50",
        cacheWrite: "6.25"
      },
      source: "https://github.com/pydantic/genai-prices/pull/461",
      checked: "2026-07-09",
      confidence: "secondary",
      note: "launch list = global rate"
    },
    {
      model: "openai.gpt-5.6-terra",
      profile: "global",
      region: "*",
      effectiveFrom: "2026-07-30",
      effectiveTo: null,
      input: "2.00",
      output: "12.00",
      cacheRead: "0.20",
      cacheWrite: "2.50",
      longContext: {
        aboveInputTokens: 272e3,
        input: "4.00",
        output: "18.00",
        cacheRead: "0.40",
        cacheWrite: "5.00"
      },
      source: "https://docs.aws.amazon.com/bedrock/latest/userguide/model-cards-openai.html",
      checked: "2026-08-31",
      confidence: "primary",
      note: "AWS toolkit (AWS-owned)"
    },
    {
      model: "openai.gpt-oss-120b",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-08-05",
      effectiveTo: null,
      input: "0.15",
      output: "0.60",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; bedrock-mantle id"
    },
    {
      model: "openai.gpt-oss-120b-1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-08-05",
      effectiveTo: null,
      input: "0.15",
      output: "0.60",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "openai.gpt-oss-20b",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-08-05",
      effectiveTo: null,
      input: "0.07",
      output: "0.30",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache; bedrock-mantle id"
    },
    {
      model: "openai.gpt-oss-20b-1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-08-05",
      effectiveTo: null,
      input: "0.07",
      output: "0.30",
      source: "https://aws.amazon.com/bedrock/pricing/",
      checked: "2026-09-03",
      confidence: "primary",
      note: "AWS toolkit cache (AWS-owned)"
    },
    {
      model: "qwen.qwen3-235b-a22b-2507-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.22",
      output: "0.88",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/qwen.qwen3-235b-a22b-2507-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "US rate"
    },
    {
      model: "qwen.qwen3-32b-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.15",
      output: "0.60",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "qwen.qwen3-coder-30b-a3b-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.15",
      output: "0.60",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary"
    },
    {
      model: "qwen.qwen3-coder-480b-a35b-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-09-18",
      effectiveTo: null,
      input: "0.45",
      output: "1.80",
      source: "https://github.com/pydantic/genai-prices/blob/main/prices/providers/aws.yml",
      checked: "2026-06-30",
      confidence: "secondary",
      note: "LiteLLM 0.22 input rejected"
    },
    {
      model: "qwen.qwen3-vl-235b-a22b",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-12-02",
      effectiveTo: null,
      input: "0.53",
      output: "2.66",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/qwen.qwen3-vl-235b-a22b.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "US rate; launch date unverified"
    },
    {
      model: "writer.palmyra-x5-v1:0",
      profile: "*",
      region: "*",
      effectiveFrom: "2025-04-28",
      effectiveTo: null,
      input: "0.60",
      output: "6.00",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/writer.palmyra-x5-v1:0.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "launch date unverified"
    },
    {
      model: "zai.glm-4.7",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-06",
      effectiveTo: null,
      input: "0.60",
      output: "2.20",
      source: "https://github.com/truefoundry/models/blob/main/providers/aws-bedrock/zai.glm-4.7.yaml",
      checked: "2026-12-01",
      confidence: "secondary",
      note: "from: models.dev date"
    },
    {
      model: "zai.glm-4.7-flash",
      profile: "*",
      region: "*",
      effectiveFrom: "2026-02-06",
      effectiveTo: null,
      input: "0.07",
      output: "0.40",
      source: "https://github.com/anomalyco/models.dev/pull/856",
      checked: "2026-02-11",
      confidence: "secondary",
      note: "from: models.dev date"
    },
    {
      model: "zai.glm-5",
      profile: "*",
      region: "us-east-1",
      effectiveFrom: "2026-07-01",
      effectiveTo: null,
      input: "1.00",
      output: "3.20",
      source: "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBedrock/20260707080509/index.json",
      checked: "2026-07-07",
      confidence: "secondary",
      note: "3rd-party transcription, not fetched"
    }
  ]
};

// packages/core/src/defaults.ts
var DEFAULTS_ORIGIN = "defaults";
var cached;
function defaultCatalog() {
  cached ??= PriceCatalog.fromJson(defaults_default, DEFAULTS_ORIGIN);
  return cached;
}
__name(defaultCatalog, "defaultCatalog");
function catalogFrom(source) {
  switch (source.kind) {
    case "defaults":
      return defaultCatalog();
    case "overlay":
      return defaultCatalog().overlay(PriceCatalog.fromJson(source.json, source.origin));
    case "only":
      return PriceCatalog.fromJson(source.json, source.origin);
  }
}
__name(catalogFrom, "catalogFrom");

// stacks/config.ts
var csv = z.string().transform(
  (value) => value.split(",").map((item) => item.trim()).filter(Boolean)
);
var boolean = z.enum(["true", "false"]).transform((value) => value === "true");
var ConfigSchema = z.object({
  /** BEDROCK_SPEND_EXISTING_LOG_GROUP: use this log group instead of creating one (Bedrock already logs there). */
  existingLogGroupName: z.string().min(1).optional(),
  /** BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING: point Bedrock model invocation logging at the log group (default true; false when the account already logs). */
  configureBedrockLogging: boolean.default(true),
  /** BEDROCK_SPEND_LOG_RETENTION_DAYS: retention of the invocation log group (default 30). */
  logRetentionDays: z.coerce.number().int().positive().default(30),
  /** BEDROCK_SPEND_LAKE_RETENTION_DAYS: days the Parquet lake keeps data; 0 keeps it forever (default 0). */
  lakeRetentionDays: z.coerce.number().int().nonnegative().default(0),
  /** BEDROCK_SPEND_METADATA_ALIASES: JSON alias map, e.g. {"tenantId":["acct"]}. */
  metadataAliases: z.string().optional(),
  /** BEDROCK_SPEND_PRICE_OVERLAY: JSON price catalog overlay (negotiated prices), laid over the shipped catalog. */
  priceOverlay: z.string().optional(),
  /** BEDROCK_SPEND_PRICES_ONLY: true makes BEDROCK_SPEND_PRICE_OVERLAY the whole catalog instead of an overlay (default false). */
  pricesOnly: boolean.default(false),
  /** BEDROCK_SPEND_PROFILE_MAP: JSON application-inference-profile map. */
  profileMap: z.string().optional(),
  /** BEDROCK_SPEND_BREAKDOWNS: extra per-month aggregate breakdowns, e.g. departmentId. */
  breakdowns: csv.default([]),
  /** BEDROCK_SPEND_DEFAULT_BUDGET_USD: budget for tenants without one (unset: none). */
  defaultBudgetUsd: z.string().regex(/^\d+(\.\d+)?$/, "must be a decimal amount").optional(),
  /** BEDROCK_SPEND_DEFAULT_BUDGET_THRESHOLDS: alert thresholds in percent (default 50,80,100). */
  defaultBudgetThresholds: z.string().regex(/^\d+(,\d+)*$/, "must be comma-separated percentages").default("50,80,100"),
  /** BEDROCK_SPEND_ALERT_EMAIL: e-mail subscribed to the alert topic (optional). */
  alertEmail: z.string().email().optional(),
  /** BEDROCK_SPEND_OPS_EMAIL: e-mail subscribed to the pipeline's alarm topic (optional). */
  opsEmail: z.string().email().optional(),
  /** BEDROCK_SPEND_JWT_ISSUER / _AUDIENCE / _TENANT_CLAIM: also serve the API through an HTTP API with a JWT authorizer. */
  jwtIssuer: z.string().url().optional(),
  jwtAudience: csv.optional(),
  jwtTenantClaim: z.string().min(1).default("tenant_id"),
  /** BEDROCK_SPEND_QUICKSIGHT_PRINCIPAL_ARN: build the QuickSight data source, dataset, analysis and dashboard for this principal (needs a QuickSight subscription). */
  quickSightPrincipalArn: z.string().startsWith("arn:").optional(),
  /** BEDROCK_SPEND_ATHENA_BYTES_SCANNED_CUTOFF: per-query scan limit of the Athena workgroup (default 10 GB). */
  athenaBytesScannedCutoff: z.coerce.number().int().min(1e7).default(1e10)
}).superRefine((settings, context) => {
  if (settings.pricesOnly && !settings.priceOverlay) {
    context.addIssue({ code: "custom", path: ["pricesOnly"], message: "needs BEDROCK_SPEND_PRICE_OVERLAY, the catalog to use alone" });
  }
  if (settings.priceOverlay) {
    const problem = catalogProblem(settings.priceOverlay, settings.pricesOnly);
    if (problem)
      context.addIssue({ code: "custom", path: ["priceOverlay"], message: problem });
  }
});
function catalogProblem(text, only) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `is not valid JSON: ${error.message}`;
  }
  try {
    catalogFrom(only ? { kind: "only", json, origin: "BEDROCK_SPEND_PRICE_OVERLAY" } : { kind: "overlay", json, origin: "BEDROCK_SPEND_PRICE_OVERLAY" });
    return void 0;
  } catch (error) {
    return error.message;
  }
}
__name(catalogProblem, "catalogProblem");
var ENVIRONMENT = {
  existingLogGroupName: "BEDROCK_SPEND_EXISTING_LOG_GROUP",
  configureBedrockLogging: "BEDROCK_SPEND_CONFIGURE_BEDROCK_LOGGING",
  logRetentionDays: "BEDROCK_SPEND_LOG_RETENTION_DAYS",
  lakeRetentionDays: "BEDROCK_SPEND_LAKE_RETENTION_DAYS",
  metadataAliases: "BEDROCK_SPEND_METADATA_ALIASES",
  priceOverlay: "BEDROCK_SPEND_PRICE_OVERLAY",
  pricesOnly: "BEDROCK_SPEND_PRICES_ONLY",
  profileMap: "BEDROCK_SPEND_PROFILE_MAP",
  breakdowns: "BEDROCK_SPEND_BREAKDOWNS",
  defaultBudgetUsd: "BEDROCK_SPEND_DEFAULT_BUDGET_USD",
  defaultBudgetThresholds: "BEDROCK_SPEND_DEFAULT_BUDGET_THRESHOLDS",
  alertEmail: "BEDROCK_SPEND_ALERT_EMAIL",
  opsEmail: "BEDROCK_SPEND_OPS_EMAIL",
  jwtIssuer: "BEDROCK_SPEND_JWT_ISSUER",
  jwtAudience: "BEDROCK_SPEND_JWT_AUDIENCE",
  jwtTenantClaim: "BEDROCK_SPEND_JWT_TENANT_CLAIM",
  quickSightPrincipalArn: "BEDROCK_SPEND_QUICKSIGHT_PRINCIPAL_ARN",
  athenaBytesScannedCutoff: "BEDROCK_SPEND_ATHENA_BYTES_SCANNED_CUTOFF"
};
function loadConfig(env = process.env, overrides = {}) {
  const raw = {};
  for (const [key, name] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== void 0 && value.trim() !== "")
      raw[key] = value.trim();
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    throw new Error(`${ENVIRONMENT[key] ?? key}: ${issue?.message ?? "invalid"}`);
  }
  return { ...parsed.data, ...overrides };
}
__name(loadConfig, "loadConfig");
function pricingEnvironment(settings) {
  const environment = {};
  if (settings.priceOverlay)
    environment[settings.pricesOnly ? "PRICE_CATALOG" /* priceCatalog */ : "PRICE_OVERLAY" /* priceOverlay */] = settings.priceOverlay;
  if (settings.profileMap)
    environment["PROFILE_MAP" /* profileMap */] = settings.profileMap;
  if (settings.metadataAliases)
    environment["METADATA_ALIASES" /* metadataAliases */] = settings.metadataAliases;
  return environment;
}
__name(pricingEnvironment, "pricingEnvironment");
var current;
function config() {
  current ??= loadConfig();
  return current;
}
__name(config, "config");

// stacks/Processing.ts
import { Duration as Duration2 } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { KinesisEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, use } from "sst/constructs";

// stacks/Ingest.ts
import { ArnFormat, Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kinesis from "aws-cdk-lib/aws-kinesis";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as cr from "aws-cdk-lib/custom-resources";

// stacks/storage.ts
import { RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
function removalPolicyOf(stage) {
  return stage === "prod" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}
__name(removalPolicyOf, "removalPolicyOf");
function privateBucket(scope, id, props) {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: s3.BucketEncryption.S3_MANAGED,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    ...props
  });
}
__name(privateBucket, "privateBucket");

// stacks/Ingest.ts
var BEDROCK_LOG_STREAM = "aws/bedrock/modelinvocations";
var RETENTION_DAYS = new Set(Object.values(logs.RetentionDays).filter((value) => typeof value === "number"));
function logGroupArn(stack, rest) {
  return stack.formatArn({ service: "logs", resource: "log-group", resourceName: rest, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
__name(logGroupArn, "logGroupArn");
function Ingest({ stack, app }) {
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);
  const stream = new kinesis.Stream(stack, "Invocations", {
    streamMode: kinesis.StreamMode.ON_DEMAND,
    encryption: kinesis.StreamEncryption.MANAGED,
    retentionPeriod: Duration.hours(168)
  });
  let logGroup;
  let logGroupName;
  if (settings.existingLogGroupName) {
    logGroupName = settings.existingLogGroupName;
    logGroup = logs.LogGroup.fromLogGroupName(stack, "InvocationLogs", logGroupName);
  } else {
    if (!RETENTION_DAYS.has(settings.logRetentionDays)) {
      throw new Error(
        `BEDROCK_SPEND_LOG_RETENTION_DAYS: CloudWatch Logs does not accept ${settings.logRetentionDays} days; use one of ${[...RETENTION_DAYS].filter((days) => days > 0).join(", ")}`
      );
    }
    logGroupName = `/bedrock-spend/${app.stage}/model-invocations`;
    const key = new kms.Key(stack, "InvocationLogsKey", {
      description: `Encrypts the Bedrock invocation log group ${logGroupName} (prompts and responses)`,
      enableKeyRotation: true,
      removalPolicy
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "AllowCloudWatchLogsForTheInvocationLogGroupOnly",
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:DescribeKey"
        ],
        resources: ["*"],
        conditions: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn(stack, logGroupName) } }
      })
    );
    logGroup = new logs.LogGroup(stack, "InvocationLogs", {
      logGroupName,
      retention: settings.logRetentionDays,
      encryptionKey: key,
      removalPolicy
    });
  }
  if (settings.configureBedrockLogging) {
    const bedrockRole = new iam.Role(stack, "BedrockLoggingRole", {
      description: "Assumed by Amazon Bedrock to write model invocation logs to the invocation log group",
      assumedBy: new iam.ServicePrincipal("bedrock.amazonaws.com", {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: { "aws:SourceArn": stack.formatArn({ service: "bedrock", resource: "*", arnFormat: ArnFormat.NO_RESOURCE_NAME }) }
        }
      }),
      // Inline, so that the permissions exist as soon as the role does: Bedrock checks them (and
      // writes a line to the log group) when the configuration is put, which references the role.
      inlinePolicies: {
        WriteInvocationLogs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [logGroupArn(stack, `${logGroupName}:log-stream:${BEDROCK_LOG_STREAM}`)]
            })
          ]
        })
      }
    });
    const loggingConfiguration = {
      service: "bedrock",
      action: "PutModelInvocationLoggingConfiguration",
      parameters: {
        loggingConfig: {
          cloudWatchConfig: { logGroupName: logGroup.logGroupName, roleArn: bedrockRole.roleArn },
          // Explicit: the token counts and requestMetadata come with the text records; no other modality is logged.
          textDataDeliveryEnabled: true,
          imageDataDeliveryEnabled: false,
          embeddingDataDeliveryEnabled: false,
          videoDataDeliveryEnabled: false,
          audioDataDeliveryEnabled: false
        }
      },
      // One configuration per account and Region, so one fixed id: an update never replaces the
      // resource (a replacement would be followed by the old resource's delete, which switches logging off).
      physicalResourceId: cr.PhysicalResourceId.of(`bedrock-model-invocation-logging-${stack.region}`)
    };
    new cr.AwsCustomResource(stack, "BedrockInvocationLogging", {
      resourceType: "Custom::BedrockModelInvocationLogging",
      onCreate: loggingConfiguration,
      onUpdate: loggingConfiguration,
      onDelete: { service: "bedrock", action: "DeleteModelInvocationLoggingConfiguration" },
      // The Lambda runtime's SDK has the Bedrock client: no npm install at deploy time.
      installLatestAwsSdk: false,
      timeout: Duration.minutes(2),
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          // These two actions have no resource type: IAM only accepts "*" for them.
          actions: ["bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"],
          resources: ["*"]
        }),
        new iam.PolicyStatement({
          actions: ["iam:PassRole"],
          resources: [bedrockRole.roleArn],
          conditions: { StringEquals: { "iam:PassedToService": "bedrock.amazonaws.com" } }
        })
      ])
    });
  }
  const subscriptionRole = new iam.Role(stack, "SubscriptionRole", {
    description: "Assumed by CloudWatch Logs to put the invocation log events into the Kinesis stream",
    assumedBy: new iam.ServicePrincipal("logs.amazonaws.com", {
      conditions: { StringLike: { "aws:SourceArn": stack.formatArn({ service: "logs", resource: "*", arnFormat: ArnFormat.NO_RESOURCE_NAME }) } }
    }),
    // Inline: CloudWatch Logs tests the destination when the filter (which references the role) is created.
    inlinePolicies: {
      PutRecords: new iam.PolicyDocument({
        // The stream uses the AWS-managed key: no KMS permission is needed to write to it.
        statements: [new iam.PolicyStatement({ actions: ["kinesis:PutRecord", "kinesis:PutRecords"], resources: [stream.streamArn] })]
      })
    }
  });
  new logs.CfnSubscriptionFilter(stack, "InvocationSubscription", {
    logGroupName: logGroup.logGroupName,
    filterPattern: "",
    destinationArn: stream.streamArn,
    roleArn: subscriptionRole.roleArn,
    distribution: "Random"
  });
  stack.addOutputs({ InvocationLogGroup: logGroup.logGroupName, InvocationStream: stream.streamName });
  return { stream, logGroup };
}
__name(Ingest, "Ingest");

// stacks/pricing-registry.ts
import * as iam2 from "aws-cdk-lib/aws-iam";
var PRICING_PARTITION = "P#PRICING";
var REPRICE_PARTITION = "P#REPRICE";
function registryRead(tableArn) {
  return new iam2.PolicyStatement({
    sid: "PricingRegistry",
    actions: ["dynamodb:GetItem"],
    resources: [tableArn],
    conditions: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": [PRICING_PARTITION] } }
  });
}
__name(registryRead, "registryRead");

// stacks/Processing.ts
function Processing({ stack, app }) {
  const { stream } = use(Ingest);
  const settings = config();
  const table = new dynamodb.Table(stack, "Aggregates", {
    partitionKey: { name: PK, type: dynamodb.AttributeType.STRING },
    sortKey: { name: SK, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    removalPolicy: removalPolicyOf(app.stage)
  });
  const deadLetters = new sqs.Queue(stack, "DeadLetters", {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration2.days(14),
    visibilityTimeout: Duration2.minutes(6)
  });
  const pricing = pricingEnvironment(settings);
  const aggregate = new SstFunction(stack, "Aggregate", {
    handler: "functions/src/aggregate.handler",
    timeout: 60,
    memorySize: 1024,
    environment: {
      ...pricing,
      ["TABLE_NAME" /* tableName */]: table.tableName,
      ["DEAD_LETTER_QUEUE_URL" /* deadLetterQueueUrl */]: deadLetters.queueUrl,
      ["AGGREGATE_BREAKDOWNS" /* aggregateBreakdowns */]: settings.breakdowns.join(","),
      ["POWERTOOLS_METRICS_NAMESPACE" /* metricsNamespace */]: METRICS_NAMESPACE
    }
  });
  table.grant(aggregate, "dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem");
  aggregate.addToRolePolicy(registryRead(table.tableArn));
  deadLetters.grantSendMessages(aggregate);
  aggregate.addEventSource(
    new KinesisEventSource(stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration2.seconds(1),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration2.days(1),
      parallelizationFactor: 2,
      onFailure: new SqsDlq(deadLetters)
    })
  );
  const redrive = new SstFunction(stack, "Redrive", {
    handler: "functions/src/redrive.handler",
    timeout: 300,
    memorySize: 1024,
    environment: {
      ...pricing,
      ["TABLE_NAME" /* tableName */]: table.tableName,
      ["DEAD_LETTER_QUEUE_URL" /* deadLetterQueueUrl */]: deadLetters.queueUrl,
      ["STREAM_ARN" /* streamArn */]: stream.streamArn,
      ["AGGREGATE_BREAKDOWNS" /* aggregateBreakdowns */]: settings.breakdowns.join(",")
    }
  });
  table.grant(redrive, "dynamodb:TransactWriteItems", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem");
  redrive.addToRolePolicy(registryRead(table.tableArn));
  deadLetters.grantConsumeMessages(redrive);
  stream.grantRead(redrive);
  stack.addOutputs({ AggregatesTable: table.tableName, DeadLetterQueue: deadLetters.queueUrl });
  return { table, deadLetters, aggregate, redrive };
}
__name(Processing, "Processing");

// stacks/Alerts.ts
var BUDGET_ALERT_FILTER = {
  eventName: ["INSERT", "MODIFY"],
  // monthSk("") is the prefix every month total's sort key shares.
  dynamodb: { Keys: { [SK]: { S: [{ prefix: monthSk("") }, BUDGET_SK] } } }
};
function Alerts({ stack, app }) {
  const { table } = use2(Processing);
  const settings = config();
  const topicKey = new kms2.Key(stack, "AlertTopicKey", {
    description: "Encrypts the bedrock-spend budget alert topic",
    enableKeyRotation: true,
    removalPolicy: removalPolicyOf(app.stage)
  });
  const topic = new sns.Topic(stack, "AlertTopic", { displayName: "bedrock-spend budget alerts", masterKey: topicKey, enforceSSL: true });
  if (settings.alertEmail)
    topic.addSubscription(new subscriptions.EmailSubscription(settings.alertEmail));
  const bus = new events.EventBus(stack, "AlertBus", { eventBusName: `${app.name}-${app.stage}` });
  const failures = new sqs2.Queue(stack, "AlertFailures", {
    encryption: sqs2.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration3.days(14)
  });
  const budgetAlert = new SstFunction2(stack, "BudgetAlert", {
    handler: "functions/src/budget-alert.handler",
    timeout: 60,
    memorySize: 512,
    environment: {
      ["TABLE_NAME" /* tableName */]: table.tableName,
      ["ALERT_TOPIC_ARN" /* alertTopicArn */]: topic.topicArn,
      ["EVENT_BUS_NAME" /* eventBusName */]: bus.eventBusName,
      ...settings.defaultBudgetUsd ? { ["DEFAULT_BUDGET_USD" /* defaultBudgetUsd */]: settings.defaultBudgetUsd } : {},
      ["DEFAULT_BUDGET_THRESHOLDS" /* defaultBudgetThresholds */]: settings.defaultBudgetThresholds
    }
  });
  table.grant(budgetAlert, "dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem");
  budgetAlert.addToRolePolicy(new iam3.PolicyStatement({ actions: ["sns:Publish"], resources: [topic.topicArn] }));
  budgetAlert.addToRolePolicy(new iam3.PolicyStatement({ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [topicKey.keyArn] }));
  bus.grantPutEventsTo(budgetAlert);
  budgetAlert.addEventSource(
    new DynamoEventSource(table, {
      startingPosition: lambda2.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      maxBatchingWindow: Duration3.seconds(2),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: 5,
      maxRecordAge: Duration3.hours(6),
      onFailure: new SqsDlq2(failures),
      filters: [lambda2.FilterCriteria.filter(BUDGET_ALERT_FILTER)]
    })
  );
  stack.addOutputs({ AlertTopic: topic.topicArn, AlertBus: bus.eventBusName, AlertFailureQueue: failures.queueUrl });
  return { topic, bus, budgetAlert, failures };
}
__name(Alerts, "Alerts");

// stacks/Analytics.ts
import { Duration as Duration5 } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as iam5 from "aws-cdk-lib/aws-iam";
import * as quicksight from "aws-cdk-lib/aws-quicksight";
import { dependsOn, use as use4 } from "sst/constructs";

// packages/core/src/views.ts
var USAGE_TABLE = "invocations";
var VIEW_TOKEN_CLASSES = ["input", "output", "cache_read", "cache_write"];
var UNGROUPED = "ungrouped";
var UNASSIGNED = "unassigned";
var sumBigint = /* @__PURE__ */ __name((expression) => `CAST(SUM(${expression}) AS BIGINT)`, "sumBigint");
var YEAR = { name: "year", expression: "year", type: "string", doc: "Partition: YYYY (UTC)" };
var MONTH = { name: "month", expression: "month", type: "string", doc: "Partition: MM (UTC)" };
var DAY = { name: "day", expression: "day", type: "string", doc: "Partition: DD (UTC)" };
var TENANT = { name: "tenant_id", expression: "tenant_id", type: "string", doc: "Tenant (the company); 'unattributed' when untagged" };
var TENANT_GROUP = {
  name: "tenant_group",
  expression: `COALESCE(tenant_group, '${UNGROUPED}')`,
  type: "string",
  doc: `Tenant group; '${UNGROUPED}' when the call carried none`
};
var DEPARTMENT = {
  name: "department_id",
  expression: `COALESCE(department_id, '${UNASSIGNED}')`,
  type: "string",
  doc: `Department; '${UNASSIGNED}' when the call carried none`
};
var MODEL = {
  name: "model",
  expression: "COALESCE(model, model_id)",
  type: "string",
  doc: "Base model id; the model id as logged when it did not resolve"
};
var PROFILE = { name: "profile", expression: "profile", type: "string", doc: "Inference profile: global, us, eu, ..., none or application" };
var PRICE_VERSION = { name: "price_version", expression: "price_version", type: "string", doc: "Price catalog version; null when unpriced" };
var USAGE_DATE = { name: "usage_date", expression: "CAST(event_time AS DATE)", type: "date", doc: "Calendar day of the invocation (UTC)" };
var PERIOD = {
  name: "period",
  expression: "year || '-' || month",
  type: "string",
  doc: "Calendar month YYYY-MM (UTC), as the spend API names it"
};
var INVOCATIONS = { name: "invocations", expression: "COUNT(*)", type: "bigint", doc: "Invocations, priced or not" };
var UNPRICED = {
  name: "unpriced_invocations",
  expression: sumBigint("CASE WHEN status = 'unpriced' THEN 1 ELSE 0 END"),
  type: "bigint",
  doc: "Invocations no price matched: counted in tokens, not in cost_usd"
};
var TOKEN_MEASURES = VIEW_TOKEN_CLASSES.map((tokenClass) => ({
  name: `${tokenClass}_tokens`,
  expression: sumBigint(`${tokenClass}_tokens`),
  type: "bigint",
  doc: `${tokenClass.replace("_", " ")} tokens`
}));
var TOTAL_TOKENS = {
  name: "total_tokens",
  expression: sumBigint(VIEW_TOKEN_CLASSES.map((tokenClass) => `${tokenClass}_tokens`).join(" + ")),
  type: "bigint",
  doc: "Tokens of all four classes (input, output, cache read, cache write)"
};
var COST = { name: "cost_usd", expression: "SUM(cost_usd)", type: "decimal", doc: "Exact cost in USD of the priced invocations" };
var USAGE_MEASURES = [INVOCATIONS, UNPRICED, ...TOKEN_MEASURES, TOTAL_TOKENS, COST];
function aggregateSql(table, dimensions, measures) {
  const select = [...dimensions, ...measures].map(({ name, expression }) => expression === name ? name : `${expression} AS ${name}`);
  return [`SELECT`, `  ${select.join(",\n  ")}`, `FROM ${table}`, `GROUP BY`, `  ${dimensions.map((dimension) => dimension.expression).join(",\n  ")}`].join(
    "\n"
  );
}
__name(aggregateSql, "aggregateSql");
function aggregateView(name, description, table, dimensions, measures = USAGE_MEASURES) {
  return {
    name,
    description,
    sql: aggregateSql(table, dimensions, measures),
    columns: [...dimensions, ...measures].map(({ name: column2, type, doc }) => ({ name: column2, type, doc }))
  };
}
__name(aggregateView, "aggregateView");
function tokensByClassView(table) {
  const dimensions = [YEAR, MONTH, TENANT, MODEL];
  const totals = aggregateSql(table, dimensions, TOKEN_MEASURES);
  const cases = VIEW_TOKEN_CLASSES.map((tokenClass) => `WHEN '${tokenClass}' THEN totals.${tokenClass}_tokens`).join(" ");
  const classes = VIEW_TOKEN_CLASSES.map((tokenClass) => `('${tokenClass}')`).join(", ");
  const sql = [
    `WITH totals AS (`,
    totals.replace(/^/gm, "  "),
    `)`,
    `SELECT`,
    `  ${dimensions.map((dimension) => `totals.${dimension.name}`).join(",\n  ")},`,
    `  CAST(classes.token_class AS VARCHAR) AS token_class,`,
    `  CASE classes.token_class ${cases} END AS tokens`,
    `FROM totals`,
    `CROSS JOIN (VALUES ${classes}) AS classes (token_class)`
  ].join("\n");
  return {
    name: "tokens_by_class",
    description: "Tokens per class (input, output, cache_read, cache_write) by month, tenant and model, one row per class. Cost per class is not stored (one exact cost_usd per invocation): it would need the catalog entry that priced each row.",
    sql,
    columns: [
      ...dimensions.map(({ name, type, doc }) => ({ name, type, doc })),
      { name: "token_class", type: "string", doc: `One of ${VIEW_TOKEN_CLASSES.join(", ")}` },
      { name: "tokens", type: "bigint", doc: "Tokens of that class" }
    ]
  };
}
__name(tokensByClassView, "tokensByClassView");
function dashboardViews(table = USAGE_TABLE) {
  return [
    aggregateView("token_usage_by_tenant_group", "Token usage and cost by month and tenant group (the seed's vertical bar chart).", table, [
      YEAR,
      MONTH,
      TENANT_GROUP
    ]),
    aggregateView("token_usage_by_company", "Token usage and cost by month and company, i.e. tenant (the seed's pie chart).", table, [YEAR, MONTH, TENANT]),
    aggregateView(
      "token_usage_by_department",
      "Token usage and cost by month, tenant and department (the seed's horizontal bar chart); departments are per tenant.",
      table,
      [YEAR, MONTH, TENANT, DEPARTMENT]
    ),
    aggregateView("model_distribution", "Invocations, tokens and cost by month, model and inference profile (the seed's model distribution donut).", table, [
      YEAR,
      MONTH,
      MODEL,
      PROFILE
    ]),
    aggregateView("daily_cost_trend", "Cost, invocations and tokens per calendar day (UTC) of the invocation.", table, [YEAR, MONTH, USAGE_DATE]),
    tokensByClassView(table),
    aggregateView("cost_by_model", "Cost by month, model, inference profile and price catalog version (which catalog priced which spend).", table, [
      YEAR,
      MONTH,
      MODEL,
      PROFILE,
      PRICE_VERSION
    ]),
    aggregateView(
      "spend_by_tenant_month",
      "Spend per tenant and calendar month: the same figures as `bedrock-spend spend --json` and the spend API, for reconciliation.",
      table,
      [PERIOD, YEAR, MONTH, TENANT]
    ),
    aggregateView("usage_daily", "Daily rollup by tenant, tenant group, department, model and profile: the QuickSight dashboard's dataset.", table, [
      YEAR,
      MONTH,
      DAY,
      USAGE_DATE,
      TENANT,
      TENANT_GROUP,
      DEPARTMENT,
      MODEL,
      PROFILE
    ])
  ];
}
__name(dashboardViews, "dashboardViews");
var DASHBOARD_VIEWS = dashboardViews();
function dashboardView(name, table = USAGE_TABLE) {
  const view = dashboardViews(table).find((candidate) => candidate.name === name);
  if (!view)
    throw new RangeError(`unknown dashboard view "${name}"; expected one of ${DASHBOARD_VIEWS.map((known) => known.name).join(", ")}`);
  return view;
}
__name(dashboardView, "dashboardView");
function createViewStatement(view, dialect = "athena") {
  return `CREATE OR REPLACE VIEW ${view.name} AS
${view.sql}`;
}
__name(createViewStatement, "createViewStatement");

// stacks/Lake.ts
import { Duration as Duration4 } from "aws-cdk-lib";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam4 from "aws-cdk-lib/aws-iam";
import * as firehose from "aws-cdk-lib/aws-kinesisfirehose";
import * as logs2 from "aws-cdk-lib/aws-logs";
import * as s32 from "aws-cdk-lib/aws-s3";
import { Function as SstFunction3, use as use3 } from "sst/constructs";

// packages/core/src/usage.ts
import { z as z2 } from "zod";
var COST_DECIMAL = { precision: 38, scale: 12 };
var USAGE_COLUMNS = [
  {
    name: "request_id",
    type: "string",
    nullable: false,
    doc: "Bedrock requestId; the identity of an invocation (dedup key)"
  },
  {
    name: "event_time",
    type: "timestamp",
    nullable: false,
    doc: "Invocation time from the log record, UTC"
  },
  {
    name: "account_id",
    type: "string",
    nullable: true,
    doc: "AWS account that called Bedrock"
  },
  {
    name: "region",
    type: "string",
    nullable: true,
    doc: "Source AWS Region of the call (prices are by source Region)"
  },
  {
    name: "inference_region",
    type: "string",
    nullable: true,
    doc: "Region that served a cross-Region call, when logged"
  },
  {
    name: "operation",
    type: "string",
    nullable: true,
    doc: "Converse, ConverseStream, InvokeModel or InvokeModelWithResponseStream"
  },
  {
    name: "model_id",
    type: "string",
    nullable: false,
    doc: "modelId as logged (id, profile id or ARN)"
  },
  {
    name: "model",
    type: "string",
    nullable: true,
    doc: "Base model id the price is keyed by; null when unresolved"
  },
  {
    name: "profile",
    type: "string",
    nullable: false,
    doc: "global, us, eu, apac, jp, au, us-gov, none (in-Region) or application"
  },
  {
    name: "tenant_id",
    type: "string",
    nullable: false,
    doc: "Tenant from requestMetadata; 'unattributed' when absent"
  },
  {
    name: "tenant_group",
    type: "string",
    nullable: true,
    doc: "Tenant group (tier, plan, segment) from requestMetadata"
  },
  {
    name: "department_id",
    type: "string",
    nullable: true,
    doc: "Department from requestMetadata"
  },
  {
    name: "user_id",
    type: "string",
    nullable: true,
    doc: "End user from requestMetadata"
  },
  {
    name: "application_id",
    type: "string",
    nullable: true,
    doc: "Application from requestMetadata"
  },
  {
    name: "principal_arn",
    type: "string",
    nullable: true,
    doc: "IAM principal that called Bedrock (identity.arn)"
  },
  {
    name: "metadata",
    type: "map",
    nullable: false,
    doc: "All requestMetadata keys and values"
  },
  {
    name: "input_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.inputTokenCount (excludes cache tokens)"
  },
  {
    name: "output_tokens",
    type: "bigint",
    nullable: false,
    doc: "output.outputTokenCount"
  },
  {
    name: "cache_read_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.cacheReadInputTokenCount"
  },
  {
    name: "cache_write_tokens",
    type: "bigint",
    nullable: false,
    doc: "input.cacheWriteInputTokenCount"
  },
  {
    name: "cost_usd",
    type: "decimal",
    nullable: true,
    doc: "Exact cost in USD; null when unpriced"
  },
  {
    name: "price_version",
    type: "string",
    nullable: true,
    doc: "Version of the price catalog that priced the record"
  },
  {
    name: "status",
    type: "string",
    nullable: false,
    doc: "priced or unpriced"
  },
  {
    name: "reason",
    type: "string",
    nullable: true,
    doc: "Why the record is unpriced"
  },
  {
    name: "error_code",
    type: "string",
    nullable: true,
    doc: "errorCode of a failed invocation"
  },
  {
    name: "cache_write_1h_tokens",
    type: "bigint",
    nullable: true,
    doc: "Of cache_write_tokens, those written with a 1-hour lifetime (billed apart); null when the log does not split writes"
  },
  {
    name: "latency",
    type: "string",
    nullable: true,
    doc: "performanceConfig.latency (standard or optimized, billed apart); null when the log does not say"
  },
  {
    name: "service_tier",
    type: "string",
    nullable: true,
    doc: "Service tier that served the call (default, priority, flex, reserved); null when the log does not say"
  },
  {
    name: "year",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: YYYY of event_time (UTC)"
  },
  {
    name: "month",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: MM of event_time (UTC)"
  },
  {
    name: "day",
    type: "string",
    nullable: false,
    partition: true,
    doc: "Partition: DD of event_time (UTC)"
  }
];
function dataColumns() {
  return USAGE_COLUMNS.filter((column2) => !column2.partition);
}
__name(dataColumns, "dataColumns");
function partitionColumns() {
  return USAGE_COLUMNS.filter((column2) => column2.partition === true);
}
__name(partitionColumns, "partitionColumns");
function glueType(column2) {
  switch (column2.type) {
    case "string":
      return "string";
    case "timestamp":
      return "timestamp";
    case "bigint":
      return "bigint";
    case "decimal":
      return `decimal(${COST_DECIMAL.precision},${COST_DECIMAL.scale})`;
    case "map":
      return "map<string,string>";
  }
}
__name(glueType, "glueType");

// stacks/Lake.ts
var USAGE_PREFIX = "usage/";
var ERROR_PREFIX = "errors/";
var ERROR_RETENTION_DAYS = 90;
var INTELLIGENT_TIERING_AFTER_DAYS = 30;
var PROJECTED_YEARS = { from: 2024, to: 2040 };
var FIREHOSE_PREFIX = `${USAGE_PREFIX}${partitionColumns().map((column2) => `${column2.name}=!{partitionKeyFromLambda:${column2.name}}`).join("/")}/`;
var FIREHOSE_ERROR_PREFIX = `${ERROR_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`;
function glueDatabaseName(app, stage) {
  return `${app}_${stage}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}
__name(glueDatabaseName, "glueDatabaseName");
function projectionParameters(location) {
  const ranges = {
    year: { range: `${PROJECTED_YEARS.from},${PROJECTED_YEARS.to}` },
    month: { range: "1,12", digits: "2" },
    day: { range: "1,31", digits: "2" }
  };
  const parameters = { "projection.enabled": "true" };
  for (const column2 of partitionColumns()) {
    const projection = ranges[column2.name];
    if (!projection)
      throw new Error(`no partition projection for partition column ${column2.name}`);
    parameters[`projection.${column2.name}.type`] = "integer";
    parameters[`projection.${column2.name}.range`] = projection.range;
    if (projection.digits)
      parameters[`projection.${column2.name}.digits`] = projection.digits;
  }
  parameters["storage.location.template"] = `${location}${partitionColumns().map((column2) => `${column2.name}=\${${column2.name}}`).join("/")}/`;
  return parameters;
}
__name(projectionParameters, "projectionParameters");
function usageLifecycleRule(lakeRetentionDays) {
  const tiering = lakeRetentionDays === 0 || lakeRetentionDays > INTELLIGENT_TIERING_AFTER_DAYS;
  return {
    id: "usage-tiering-and-retention",
    prefix: USAGE_PREFIX,
    ...tiering ? { transitions: [{ storageClass: s32.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration4.days(INTELLIGENT_TIERING_AFTER_DAYS) }] } : {},
    ...lakeRetentionDays > 0 ? { expiration: Duration4.days(lakeRetentionDays) } : {}
  };
}
__name(usageLifecycleRule, "usageLifecycleRule");
function Lake({ stack, app }) {
  const { stream } = use3(Ingest);
  const { table: aggregates } = use3(Processing);
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);
  const bucket = privateBucket(stack, "LakeBucket", {
    removalPolicy,
    lifecycleRules: [
      { id: "abort-incomplete-multipart-uploads", abortIncompleteMultipartUploadAfter: Duration4.days(1) },
      { id: "errors-retention", prefix: ERROR_PREFIX, expiration: Duration4.days(ERROR_RETENTION_DAYS) },
      usageLifecycleRule(settings.lakeRetentionDays)
    ]
  });
  const location = `s3://${bucket.bucketName}/${USAGE_PREFIX}`;
  const databaseName = glueDatabaseName(app.name, app.stage);
  const database = new glue.CfnDatabase(stack, "LakeDatabase", {
    catalogId: stack.account,
    databaseInput: { name: databaseName, description: "bedrock-spend: priced Bedrock usage records (one row per invocation)" }
  });
  const table = new glue.CfnTable(stack, "UsageTable", {
    catalogId: stack.account,
    databaseName,
    tableInput: {
      name: USAGE_TABLE,
      description: "Usage records, one per Bedrock invocation, written by Firehose as Parquet (columns from USAGE_COLUMNS)",
      tableType: "EXTERNAL_TABLE",
      parameters: {
        classification: "parquet",
        "parquet.compression": "SNAPPY",
        EXTERNAL: "TRUE",
        ...projectionParameters(location)
      },
      partitionKeys: partitionColumns().map((column2) => ({ name: column2.name, type: glueType(column2), comment: column2.doc })),
      storageDescriptor: {
        columns: dataColumns().map((column2) => ({ name: column2.name, type: glueType(column2), comment: column2.doc })),
        location,
        inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        compressed: false,
        storedAsSubDirectories: false,
        serdeInfo: {
          serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
          parameters: { "serialization.format": "1" }
        }
      }
    }
  });
  table.addDependency(database);
  const pricing = pricingEnvironment(settings);
  const transform = new SstFunction3(stack, "Transform", {
    handler: "functions/src/transform.handler",
    timeout: 60,
    memorySize: 1024,
    // TABLE_NAME: the transform prices repriced months with the catalog the registry holds for them.
    environment: { ...pricing, ["TABLE_NAME" /* tableName */]: aggregates.tableName, ["POWERTOOLS_METRICS_NAMESPACE" /* metricsNamespace */]: METRICS_NAMESPACE }
  });
  transform.addToRolePolicy(registryRead(aggregates.tableArn));
  const deliveryLogs = new logs2.LogGroup(stack, "DeliveryLogs", { retention: logs2.RetentionDays.ONE_MONTH, removalPolicy });
  const deliveryLogStream = new logs2.LogStream(stack, "DeliveryLogStream", { logGroup: deliveryLogs, logStreamName: "DestinationDelivery", removalPolicy });
  const catalogArn = stack.formatArn({ service: "glue", resource: "catalog" });
  const databaseArn = stack.formatArn({ service: "glue", resource: "database", resourceName: databaseName });
  const tableArn = stack.formatArn({ service: "glue", resource: "table", resourceName: `${databaseName}/${USAGE_TABLE}` });
  const streamStatements = [
    new iam4.PolicyStatement({
      sid: "ReadSourceStream",
      actions: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"],
      resources: [stream.streamArn]
    })
  ];
  if (stream.encryptionKey) {
    streamStatements.push(new iam4.PolicyStatement({ sid: "DecryptSourceStream", actions: ["kms:Decrypt"], resources: [stream.encryptionKey.keyArn] }));
  }
  const deliveryRole = new iam4.Role(stack, "DeliveryRole", {
    assumedBy: new iam4.ServicePrincipal("firehose.amazonaws.com", { conditions: { StringEquals: { "sts:ExternalId": stack.account } } }),
    description: "Firehose: read the invocation stream, invoke the transform, read the Glue schema, write the lake",
    inlinePolicies: {
      delivery: new iam4.PolicyDocument({
        statements: [
          ...streamStatements,
          new iam4.PolicyStatement({
            sid: "LakeBucket",
            actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources: [bucket.bucketArn]
          }),
          new iam4.PolicyStatement({
            sid: "LakeObjects",
            actions: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`), bucket.arnForObjects(`${ERROR_PREFIX}*`)]
          }),
          new iam4.PolicyStatement({
            sid: "GlueSchema",
            actions: ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources: [catalogArn, databaseArn, tableArn]
          }),
          new iam4.PolicyStatement({
            sid: "Transform",
            actions: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
            resources: [transform.functionArn, `${transform.functionArn}:*`]
          }),
          new iam4.PolicyStatement({
            sid: "DeliveryLogs",
            actions: ["logs:PutLogEvents"],
            resources: [deliveryLogs.logGroupArn]
          })
        ]
      })
    }
  });
  const deliveryStream = new firehose.CfnDeliveryStream(stack, "DeliveryStream", {
    deliveryStreamType: "KinesisStreamAsSource",
    kinesisStreamSourceConfiguration: { kinesisStreamArn: stream.streamArn, roleArn: deliveryRole.roleArn },
    extendedS3DestinationConfiguration: {
      bucketArn: bucket.bucketArn,
      roleArn: deliveryRole.roleArn,
      prefix: FIREHOSE_PREFIX,
      errorOutputPrefix: FIREHOSE_ERROR_PREFIX,
      // Format conversion needs at least 64 MB; Firehose compresses the Parquet itself.
      bufferingHints: { sizeInMBs: 128, intervalInSeconds: 300 },
      compressionFormat: "UNCOMPRESSED",
      s3BackupMode: "Disabled",
      cloudWatchLoggingOptions: { enabled: true, logGroupName: deliveryLogs.logGroupName, logStreamName: deliveryLogStream.logStreamName },
      processingConfiguration: {
        enabled: true,
        processors: [
          {
            type: "Lambda",
            parameters: [
              { parameterName: "LambdaArn", parameterValue: transform.functionArn },
              { parameterName: "BufferSizeInMBs", parameterValue: "0.5" },
              { parameterName: "BufferIntervalInSeconds", parameterValue: "60" },
              { parameterName: "NumberOfRetries", parameterValue: "3" }
            ]
          }
        ]
      },
      dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
      dataFormatConversionConfiguration: {
        enabled: true,
        inputFormatConfiguration: { deserializer: { openXJsonSerDe: { caseInsensitive: true } } },
        outputFormatConfiguration: { serializer: { parquetSerDe: { compression: "SNAPPY" } } },
        schemaConfiguration: {
          catalogId: stack.account,
          databaseName,
          tableName: USAGE_TABLE,
          region: stack.region,
          roleArn: deliveryRole.roleArn,
          versionId: "LATEST"
        }
      }
    }
  });
  deliveryStream.addDependency(table);
  stack.addOutputs({ LakeBucket: bucket.bucketName, DeliveryStream: deliveryStream.ref, GlueDatabase: databaseName, GlueTable: USAGE_TABLE });
  return { bucket, deliveryStream, transform, database, table, databaseName, tableName: USAGE_TABLE, deliveryRole };
}
__name(Lake, "Lake");

// stacks/Analytics.ts
var RESULTS_RETENTION_DAYS = 30;
var DASHBOARD_DATASET_VIEW = "usage_daily";
var PHYSICAL_TABLE_ID = "usage-daily";
var QUICKSIGHT_TYPES = { string: "STRING", bigint: "INTEGER", decimal: "DECIMAL", date: "DATETIME" };
var OWNER_ACTIONS = {
  dataSource: [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions"
  ],
  dataSet: [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions"
  ],
  analysis: [
    "quicksight:RestoreAnalysis",
    "quicksight:UpdateAnalysisPermissions",
    "quicksight:DeleteAnalysis",
    "quicksight:DescribeAnalysisPermissions",
    "quicksight:QueryAnalysis",
    "quicksight:DescribeAnalysis",
    "quicksight:UpdateAnalysis"
  ],
  dashboard: [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion"
  ]
};
var DATASET = "usage";
var column = /* @__PURE__ */ __name((columnName) => ({ dataSetIdentifier: DATASET, columnName }), "column");
var title = /* @__PURE__ */ __name((text) => ({ visibility: "VISIBLE", formatText: { plainText: text } }), "title");
var category = /* @__PURE__ */ __name((fieldId, columnName) => ({ categoricalDimensionField: { fieldId, column: column(columnName) } }), "category");
var sum = /* @__PURE__ */ __name((fieldId, columnName) => ({
  numericalMeasureField: { fieldId, column: column(columnName), aggregationFunction: { simpleNumericalAggregation: "SUM" } }
}), "sum");
var descending = /* @__PURE__ */ __name((fieldId) => [{ fieldSort: { fieldId, direction: "DESC" } }], "descending");
var topItems = /* @__PURE__ */ __name((itemsLimit) => ({ itemsLimit, otherCategories: "INCLUDE" }), "topItems");
var DASHBOARD_FILTERS = [
  { id: "year", columnName: "year", title: "Year" },
  { id: "month", columnName: "month", title: "Month" },
  { id: "tenant", columnName: "tenant_id", title: "Tenant" },
  { id: "model", columnName: "model", title: "Model" }
];
function dashboardDefinition(dataSetArn) {
  const sheetId = "usage-overview";
  const visuals = [
    {
      barChartVisual: {
        visualId: "token-usage-by-tenant-group",
        title: title("Token usage by tenant group"),
        chartConfiguration: {
          orientation: "VERTICAL",
          barsArrangement: "STACKED",
          fieldWells: {
            barChartAggregatedFieldWells: {
              category: [category("tenant-group", "tenant_group")],
              values: [
                sum("tenant-group-input", "input_tokens"),
                sum("tenant-group-output", "output_tokens"),
                sum("tenant-group-cache-read", "cache_read_tokens"),
                sum("tenant-group-cache-write", "cache_write_tokens")
              ]
            }
          },
          sortConfiguration: { categorySort: descending("tenant-group-input"), categoryItemsLimit: topItems(25) }
        }
      }
    },
    {
      pieChartVisual: {
        visualId: "token-usage-by-company",
        title: title("Token usage by company"),
        chartConfiguration: {
          fieldWells: { pieChartAggregatedFieldWells: { category: [category("company", "tenant_id")], values: [sum("company-tokens", "total_tokens")] } },
          sortConfiguration: { categorySort: descending("company-tokens"), categoryItemsLimit: topItems(10) }
        }
      }
    },
    {
      barChartVisual: {
        visualId: "token-usage-by-department",
        title: title("Token usage by department"),
        chartConfiguration: {
          orientation: "HORIZONTAL",
          barsArrangement: "CLUSTERED",
          fieldWells: {
            barChartAggregatedFieldWells: { category: [category("department", "department_id")], values: [sum("department-tokens", "total_tokens")] }
          },
          sortConfiguration: { categorySort: descending("department-tokens"), categoryItemsLimit: topItems(20) }
        }
      }
    },
    {
      pieChartVisual: {
        visualId: "model-distribution",
        title: title("Model distribution (invocations)"),
        chartConfiguration: {
          fieldWells: { pieChartAggregatedFieldWells: { category: [category("model", "model")], values: [sum("model-invocations", "invocations")] } },
          donutOptions: { arcOptions: { arcThickness: "MEDIUM" }, donutCenterOptions: { labelVisibility: "VISIBLE" } },
          sortConfiguration: { categorySort: descending("model-invocations"), categoryItemsLimit: topItems(12) }
        }
      }
    },
    {
      lineChartVisual: {
        visualId: "cost-over-time",
        title: title("Cost over time (USD, by model)"),
        chartConfiguration: {
          type: "LINE",
          fieldWells: {
            lineChartAggregatedFieldWells: {
              category: [{ dateDimensionField: { fieldId: "cost-day", column: column("usage_date"), dateGranularity: "DAY" } }],
              values: [sum("cost-usd", "cost_usd")],
              colors: [category("cost-model", "model")]
            }
          }
        }
      }
    },
    {
      kpiVisual: {
        visualId: "unpriced-invocations",
        title: title("Unpriced invocations (counted in tokens, not in cost)"),
        chartConfiguration: { fieldWells: { values: [sum("unpriced", "unpriced_invocations")] } }
      }
    }
  ];
  const visualIds = visuals.map((visual) => {
    const [kind] = Object.values(visual);
    if (!kind)
      throw new Error("empty visual");
    return kind.visualId;
  });
  return {
    dataSetIdentifierDeclarations: [{ identifier: DATASET, dataSetArn }],
    sheets: [
      {
        sheetId,
        name: "Bedrock usage",
        visuals,
        filterControls: DASHBOARD_FILTERS.map((filter) => ({
          dropdown: { filterControlId: `${filter.id}-control`, sourceFilterId: `${filter.id}-filter`, title: filter.title, type: "MULTI_SELECT" }
        })),
        sheetControlLayouts: [
          {
            configuration: {
              gridLayout: {
                elements: DASHBOARD_FILTERS.map((filter) => ({ elementId: `${filter.id}-control`, elementType: "FILTER_CONTROL", columnSpan: 2, rowSpan: 1 }))
              }
            }
          }
        ],
        layouts: [
          {
            configuration: {
              gridLayout: {
                elements: visualIds.map((elementId) => ({ elementId, elementType: "VISUAL", columnSpan: 18, rowSpan: 12 }))
              }
            }
          }
        ]
      }
    ],
    filterGroups: DASHBOARD_FILTERS.map((filter) => ({
      filterGroupId: `${filter.id}-filter-group`,
      crossDataset: "SINGLE_DATASET",
      status: "ENABLED",
      filters: [
        {
          categoryFilter: {
            filterId: `${filter.id}-filter`,
            column: column(filter.columnName),
            configuration: { filterListConfiguration: { matchOperator: "CONTAINS", selectAllOptions: "FILTER_ALL_VALUES", nullOption: "ALL_VALUES" } }
          }
        }
      ],
      scopeConfiguration: { selectedSheets: { sheetVisualScopingConfigurations: [{ sheetId, scope: "ALL_VISUALS" }] } }
    }))
  };
}
__name(dashboardDefinition, "dashboardDefinition");
function Analytics({ stack, app }) {
  const { bucket, databaseName } = use4(Lake);
  dependsOn(Lake);
  const settings = config();
  const removalPolicy = removalPolicyOf(app.stage);
  const results = privateBucket(stack, "AthenaResults", {
    removalPolicy,
    lifecycleRules: [{ id: "results-retention", expiration: Duration5.days(RESULTS_RETENTION_DAYS), abortIncompleteMultipartUploadAfter: Duration5.days(1) }]
  });
  const workGroupName = `${app.name}-${app.stage}`;
  const workGroup = new athena.CfnWorkGroup(stack, "WorkGroup", {
    name: workGroupName,
    description: "bedrock-spend: queries over the usage lake (scan limit and result location enforced)",
    state: "ENABLED",
    // Query history is not data: the workgroup can go with the stack.
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      bytesScannedCutoffPerQuery: settings.athenaBytesScannedCutoff,
      requesterPaysEnabled: false,
      engineVersion: { selectedEngineVersion: "AUTO" },
      resultConfiguration: {
        outputLocation: `s3://${results.bucketName}/`,
        expectedBucketOwner: stack.account,
        encryptionConfiguration: { encryptionOption: "SSE_S3" }
      }
    }
  });
  const namedQueries = DASHBOARD_VIEWS.map(
    (view2) => new athena.CfnNamedQuery(stack, `View-${view2.name}`, {
      name: `create view ${view2.name}`,
      description: `${view2.description} Run once to create or replace the view.`.slice(0, 1024),
      database: databaseName,
      workGroup: workGroup.ref,
      queryString: createViewStatement(view2, "athena")
    })
  );
  stack.addOutputs({ AthenaWorkGroup: workGroupName, AthenaResultsBucket: results.bucketName });
  const principal = settings.quickSightPrincipalArn;
  if (!principal)
    return { workGroup, results, namedQueries };
  const workGroupArn = stack.formatArn({ service: "athena", resource: "workgroup", resourceName: workGroupName });
  const dataCatalogArn = stack.formatArn({ service: "athena", resource: "datacatalog", resourceName: "AwsDataCatalog" });
  const quickSightRole = new iam5.Role(stack, "QuickSightAthenaRole", {
    assumedBy: new iam5.ServicePrincipal("quicksight.amazonaws.com", { conditions: { StringEquals: { "aws:SourceAccount": stack.account } } }),
    description: "QuickSight: query the usage lake through the bedrock-spend Athena workgroup only",
    inlinePolicies: {
      athena: new iam5.PolicyDocument({
        statements: [
          new iam5.PolicyStatement({
            sid: "WorkGroupQueries",
            actions: [
              "athena:GetWorkGroup",
              "athena:StartQueryExecution",
              "athena:StopQueryExecution",
              "athena:GetQueryExecution",
              "athena:BatchGetQueryExecution",
              "athena:GetQueryResults",
              "athena:GetQueryResultsStream",
              "athena:ListQueryExecutions"
            ],
            resources: [workGroupArn]
          }),
          new iam5.PolicyStatement({
            sid: "CatalogMetadata",
            actions: ["athena:GetDataCatalog", "athena:GetDatabase", "athena:ListDatabases", "athena:GetTableMetadata", "athena:ListTableMetadata"],
            resources: [dataCatalogArn]
          }),
          new iam5.PolicyStatement({ sid: "ListOnly", actions: ["athena:ListWorkGroups", "athena:ListDataCatalogs"], resources: ["*"] }),
          new iam5.PolicyStatement({
            sid: "GlueTable",
            actions: [
              "glue:GetDatabase",
              "glue:GetDatabases",
              "glue:GetTable",
              "glue:GetTables",
              "glue:GetPartition",
              "glue:GetPartitions",
              "glue:BatchGetPartition"
            ],
            resources: [
              stack.formatArn({ service: "glue", resource: "catalog" }),
              stack.formatArn({ service: "glue", resource: "database", resourceName: databaseName }),
              stack.formatArn({ service: "glue", resource: "table", resourceName: `${databaseName}/*` })
            ]
          }),
          new iam5.PolicyStatement({ sid: "LakeBucket", actions: ["s3:GetBucketLocation", "s3:ListBucket"], resources: [bucket.bucketArn] }),
          new iam5.PolicyStatement({ sid: "LakeObjects", actions: ["s3:GetObject"], resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`)] }),
          new iam5.PolicyStatement({
            sid: "ResultsBucket",
            actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources: [results.bucketArn]
          }),
          new iam5.PolicyStatement({
            sid: "ResultsObjects",
            actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            resources: [results.arnForObjects("*")]
          })
        ]
      })
    }
  });
  const id = `${app.name}-${app.stage}`;
  const dataSource = new quicksight.CfnDataSource(stack, "QuickSightDataSource", {
    awsAccountId: stack.account,
    dataSourceId: `${id}-athena`,
    name: `bedrock-spend (${app.stage}) Athena`,
    type: "ATHENA",
    dataSourceParameters: { athenaParameters: { workGroup: workGroup.ref, roleArn: quickSightRole.roleArn } },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dataSource] }]
  });
  const view = dashboardView(DASHBOARD_DATASET_VIEW, `"${databaseName}"."${USAGE_TABLE}"`);
  const dataSet = new quicksight.CfnDataSet(stack, "QuickSightDataSet", {
    awsAccountId: stack.account,
    dataSetId: `${id}-usage-daily`,
    name: `bedrock-spend (${app.stage}) usage daily`,
    importMode: "DIRECT_QUERY",
    physicalTableMap: {
      [PHYSICAL_TABLE_ID]: {
        customSql: {
          dataSourceArn: dataSource.attrArn,
          name: DASHBOARD_DATASET_VIEW,
          sqlQuery: view.sql,
          columns: view.columns.map((viewColumn) => ({ name: viewColumn.name, type: QUICKSIGHT_TYPES[viewColumn.type] }))
        }
      }
    },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dataSet] }]
  });
  const definition = dashboardDefinition(dataSet.attrArn);
  const analysis = new quicksight.CfnAnalysis(stack, "QuickSightAnalysis", {
    awsAccountId: stack.account,
    analysisId: `${id}-usage`,
    name: `bedrock-spend (${app.stage}) usage`,
    definition,
    permissions: [{ principal, actions: [...OWNER_ACTIONS.analysis] }]
  });
  const dashboard = new quicksight.CfnDashboard(stack, "QuickSightDashboard", {
    awsAccountId: stack.account,
    dashboardId: `${id}-usage`,
    name: `bedrock-spend (${app.stage}) usage`,
    definition,
    dashboardPublishOptions: {
      adHocFilteringOption: { availabilityStatus: "ENABLED" },
      exportToCsvOption: { availabilityStatus: "ENABLED" },
      sheetControlsOption: { visibilityState: "EXPANDED" }
    },
    permissions: [{ principal, actions: [...OWNER_ACTIONS.dashboard] }]
  });
  stack.addOutputs({ QuickSightDashboardId: dashboard.dashboardId });
  return { workGroup, results, namedQueries, quickSightRole, dataSource, dataSet, analysis, dashboard };
}
__name(Analytics, "Analytics");

// stacks/Api.ts
import * as iam6 from "aws-cdk-lib/aws-iam";
import { Api as HttpApi, Function as SstFunction4, use as use5 } from "sst/constructs";
var SPEND_API_ROUTES = [
  "GET /v1/tenants/{tenantId}/spend",
  "GET /v1/tenants/{tenantId}/budget",
  "PUT /v1/tenants/{tenantId}/budget",
  "DELETE /v1/tenants/{tenantId}/budget"
];
function Api({ stack }) {
  const { table } = use5(Processing);
  const settings = config();
  const environment = {
    ["TABLE_NAME" /* tableName */]: table.tableName,
    ...settings.defaultBudgetUsd ? { ["DEFAULT_BUDGET_USD" /* defaultBudgetUsd */]: settings.defaultBudgetUsd } : {},
    ["DEFAULT_BUDGET_THRESHOLDS" /* defaultBudgetThresholds */]: settings.defaultBudgetThresholds
  };
  const tableAccess = /* @__PURE__ */ __name((fn) => fn.addToRolePolicy(
    new iam6.PolicyStatement({
      actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      resources: [table.tableArn]
    })
  ), "tableAccess");
  const spendApi = new SstFunction4(stack, "SpendApi", {
    handler: "functions/src/spend-api.handler",
    timeout: 10,
    memorySize: 512,
    environment: { ...environment, ["API_AUTH_MODE" /* apiAuthMode */]: "iam" },
    // Callers sign with SigV4; their IAM policy needs lambda:InvokeFunctionUrl and (for URLs created
    // since October 2025) lambda:InvokeFunction on this function. No CORS: no browser callers.
    url: { authorizer: "iam", cors: false }
  });
  tableAccess(spendApi);
  const outputs = { SpendApiFunctionUrl: spendApi.url ?? "", SpendApiFunctionArn: spendApi.functionArn };
  let spendApiJwt;
  let jwtApiUrl;
  if (settings.jwtIssuer) {
    if (!settings.jwtAudience || settings.jwtAudience.length === 0) {
      throw new Error("BEDROCK_SPEND_JWT_AUDIENCE: required with BEDROCK_SPEND_JWT_ISSUER (the JWT authorizer checks the token's audience)");
    }
    const handler = new SstFunction4(stack, "SpendApiJwt", {
      handler: "functions/src/spend-api.handler",
      timeout: 10,
      memorySize: 512,
      environment: { ...environment, ["API_AUTH_MODE" /* apiAuthMode */]: "jwt", ["JWT_TENANT_CLAIM" /* jwtTenantClaim */]: settings.jwtTenantClaim }
    });
    tableAccess(handler);
    const jwtApi = new HttpApi(stack, "SpendHttpApi", {
      authorizers: { jwt: { type: "jwt", jwt: { issuer: settings.jwtIssuer, audience: settings.jwtAudience } } },
      defaults: { authorizer: "jwt", throttle: { rate: 50, burst: 100 } },
      // Service callers with bearer tokens; a browser front end would need CORS configured for its origin.
      cors: false,
      accessLog: { retention: "one_month" },
      routes: Object.fromEntries(SPEND_API_ROUTES.map((route) => [route, { function: handler }]))
    });
    spendApiJwt = handler;
    jwtApiUrl = jwtApi.url;
    outputs.SpendHttpApiUrl = jwtApi.url;
  }
  stack.addOutputs(outputs);
  return { spendApi, spendApiJwt, jwtApiUrl };
}
__name(Api, "Api");

// stacks/bundling.ts
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
var GZIPPED_JSON = /[\\/]packages[\\/]core[\\/]src[\\/]catalog[\\/]defaults\.json$/;
function gzippedJson(filter = GZIPPED_JSON) {
  return {
    name: "bedrock-spend-gzipped-json",
    setup(build) {
      build.onLoad({ filter }, (args) => {
        const compact = JSON.stringify(JSON.parse(readFileSync(args.path, "utf8")));
        const packed = gzipSync(compact, { level: 9 }).toString("base64");
        return {
          loader: "js",
          contents: `import { gunzipSync } from "node:zlib";
export default JSON.parse(gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString("utf8"));
`
        };
      });
    }
  };
}
__name(gzippedJson, "gzippedJson");
var HTTP_BUILTINS = {
  http: [
    "Agent",
    "request",
    "get",
    "globalAgent",
    "STATUS_CODES",
    "METHODS",
    "createServer",
    "ClientRequest",
    "IncomingMessage",
    "OutgoingMessage",
    "Server",
    "ServerResponse"
  ],
  https: ["Agent", "request", "get", "globalAgent", "createServer", "Server"],
  http2: ["constants", "connect", "createServer", "createSecureServer", "getDefaultSettings", "getPackedSettings", "getUnpackedSettings", "sensitiveHeaders"]
};
function httpBuiltinsAsCommonJs() {
  return {
    name: "bedrock-spend-http-builtins-cjs",
    setup(build) {
      build.onResolve(
        { filter: /^(node:)?(http|https|http2)$/ },
        (args) => args.kind === "import-statement" ? { path: args.path.replace(/^node:/, ""), namespace: "bedrock-spend-builtin" } : void 0
      );
      build.onLoad({ filter: /.*/, namespace: "bedrock-spend-builtin" }, (args) => {
        const names = HTTP_BUILTINS[args.path] ?? [];
        return {
          loader: "js",
          contents: [
            'import { createRequire } from "node:module";',
            `const builtin = createRequire(import.meta.url)(${JSON.stringify(args.path)});`,
            "export default builtin;",
            `export const { ${names.join(", ")} } = builtin;`
          ].join("\n")
        };
      });
    }
  };
}
__name(httpBuiltinsAsCommonJs, "httpBuiltinsAsCommonJs");

// stacks/Monitoring.ts
import { CfnResource, Duration as Duration7, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam8 from "aws-cdk-lib/aws-iam";
import * as kms3 from "aws-cdk-lib/aws-kms";
import * as sns2 from "aws-cdk-lib/aws-sns";
import { EmailSubscription as EmailSubscription2 } from "aws-cdk-lib/aws-sns-subscriptions";
import { Function as SstFunction6, use as use7 } from "sst/constructs";

// stacks/Reprice.ts
import { Duration as Duration6 } from "aws-cdk-lib";
import * as iam7 from "aws-cdk-lib/aws-iam";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import * as tasks from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Function as SstFunction5, use as use6 } from "sst/constructs";
var HISTORY_PREFIX = "history/";
var REPRICE_LEADING_KEYS = [`${tenantPk("")}*`, `${dedupKey("").pk}*`, PRICING_PARTITION, REPRICE_PARTITION];
var REGISTRY_TTL_SECONDS = 60;
var TRANSFORM_BUFFER_SECONDS = 60;
var FIREHOSE_BUFFER_SECONDS = 300 * 1.5;
var SWITCH_OVER_SECONDS = REGISTRY_TTL_SECONDS + TRANSFORM_BUFFER_SECONDS + FIREHOSE_BUFFER_SECONDS + 60;
var SLICE_SECONDS = 600;
function Reprice({ stack, app }) {
  const { table } = use6(Processing);
  const { bucket, databaseName, tableName } = use6(Lake);
  const { workGroup, results } = use6(Analytics);
  const settings = config();
  const workGroupName = workGroup.name;
  const fn = new SstFunction5(stack, "RepriceStep", {
    handler: "functions/src/reprice.handler",
    timeout: 900,
    memorySize: 2048,
    environment: {
      ...pricingEnvironment(settings),
      ["TABLE_NAME" /* tableName */]: table.tableName,
      ["AGGREGATE_BREAKDOWNS" /* aggregateBreakdowns */]: settings.breakdowns.join(","),
      ["LAKE_BUCKET" /* lakeBucket */]: bucket.bucketName,
      ["GLUE_DATABASE" /* glueDatabase */]: databaseName,
      ["GLUE_TABLE" /* glueTable */]: tableName,
      ["ATHENA_WORKGROUP" /* athenaWorkGroup */]: workGroupName,
      ["ATHENA_RESULTS_BUCKET" /* athenaResultsBucket */]: results.bucketName,
      ["REPRICE_SLICE_SECONDS" /* repriceSliceSeconds */]: String(SLICE_SECONDS),
      ["REPRICE_SWITCH_OVER_SECONDS" /* repriceSwitchOverSeconds */]: String(SWITCH_OVER_SECONDS),
      ["POWERTOOLS_METRICS_NAMESPACE" /* metricsNamespace */]: METRICS_NAMESPACE
    }
  });
  const glue2 = /* @__PURE__ */ __name((resource, resourceName) => stack.formatArn({ service: "glue", resource, ...resourceName ? { resourceName } : {} }), "glue");
  for (const statement of [
    new iam7.PolicyStatement({
      sid: "AggregatesTable",
      actions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
      resources: [table.tableArn],
      conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": REPRICE_LEADING_KEYS } }
    }),
    new iam7.PolicyStatement({
      sid: "AthenaWorkGroup",
      actions: ["athena:GetWorkGroup", "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution"],
      resources: [stack.formatArn({ service: "athena", resource: "workgroup", resourceName: workGroupName })]
    }),
    new iam7.PolicyStatement({
      sid: "GlueUsageTable",
      actions: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
      resources: [glue2("catalog"), glue2("database", databaseName), glue2("table", `${databaseName}/${tableName}`)]
    }),
    new iam7.PolicyStatement({
      sid: "GlueStagingTables",
      actions: ["glue:CreateTable", "glue:DeleteTable", "glue:GetTable"],
      resources: [glue2("catalog"), glue2("database", databaseName), glue2("table", `${databaseName}/reprice_*`)]
    }),
    new iam7.PolicyStatement({ sid: "LakeBucket", actions: ["s3:GetBucketLocation"], resources: [bucket.bucketArn] }),
    new iam7.PolicyStatement({
      sid: "LakeList",
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [`${USAGE_PREFIX}*`, `${HISTORY_PREFIX}*`] } }
    }),
    new iam7.PolicyStatement({
      sid: "LakeObjects",
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [bucket.arnForObjects(`${USAGE_PREFIX}*`), bucket.arnForObjects(`${HISTORY_PREFIX}*`)]
    }),
    new iam7.PolicyStatement({
      sid: "ResultsBucket",
      actions: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      resources: [results.bucketArn]
    }),
    new iam7.PolicyStatement({
      sid: "ResultsObjects",
      actions: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      resources: [results.arnForObjects("*")]
    })
  ])
    fn.addToRolePolicy(statement);
  const prepare = new sfn.Pass(stack, "Prepare", { parameters: { "input.$": "$", step: {} } });
  const step = new tasks.LambdaInvoke(stack, "Step", {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.objectAt("$.input"),
      execution: { name: sfn.JsonPath.executionName, startTime: sfn.JsonPath.stringAt("$$.Execution.StartTime") },
      step: sfn.JsonPath.objectAt("$.step")
    }),
    payloadResponseOnly: true,
    resultPath: "$.step"
  });
  step.addRetry({
    errors: ["Sandbox.Timedout", "States.Timeout", "Lambda.TooManyRequestsException"],
    interval: Duration6.seconds(30),
    maxAttempts: 4,
    backoffRate: 2
  });
  const failed = new sfn.Fail(stack, "Failed", { errorPath: "$.error.Error", causePath: "$.error.Cause" });
  step.addCatch(failed, { errors: ["States.ALL"], resultPath: "$.error" });
  const wait = new sfn.Wait(stack, "Wait", { time: sfn.WaitTime.secondsPath("$.step.waitSeconds") });
  const applied = new sfn.Succeed(stack, "Applied");
  const definition = prepare.next(step).next(new sfn.Choice(stack, "Done?").when(sfn.Condition.booleanEquals("$.step.done", true), applied).otherwise(wait.next(step)));
  const role = new iam7.Role(stack, "RepriceJobRole", {
    assumedBy: new iam7.ServicePrincipal("states.amazonaws.com", { conditions: { StringEquals: { "aws:SourceAccount": stack.account } } }),
    description: "bedrock-spend reprice job: invoke the reprice step"
  });
  const stateMachine = new sfn.StateMachine(stack, "RepriceJob", {
    role,
    stateMachineName: `${app.name}-${app.stage}-reprice`,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: Duration6.days(7),
    comment: "bedrock-spend reprice: runs the reprice step until the audit record says applied"
  });
  stack.addOutputs({ RepriceStateMachine: stateMachine.stateMachineArn, RepriceFunction: fn.functionName });
  return { stateMachine, fn };
}
__name(Reprice, "Reprice");

// stacks/Monitoring.ts
var AGGREGATE_DIMENSIONS = { [SERVICE_DIMENSION]: SERVICE_NAME };
var TRANSFORM_METRIC_DIMENSIONS = { ...AGGREGATE_DIMENSIONS, ...TRANSFORM_DIMENSIONS };
var THRESHOLDS = {
  /** Stream consumers more than 5 minutes behind. */
  iteratorAgeMs: 5 * 60 * 1e3,
  /**
   * The lake buffers 300 s (up to 1.5x that with dynamic partitioning), so a healthy stream's oldest
   * undelivered record is under ~8 minutes old: 15 minutes means delivery is stuck.
   */
  firehoseFreshnessSeconds: 15 * 60
};
function deliveryStreamNameOf(value) {
  if (value instanceof CfnResource)
    return value.ref;
  if (typeof value === "object" && value !== null && "deliveryStreamName" in value && typeof value.deliveryStreamName === "string") {
    return value.deliveryStreamName;
  }
  throw new Error("Monitoring: the Lake stack must export its Firehose delivery stream as `deliveryStream`");
}
__name(deliveryStreamNameOf, "deliveryStreamNameOf");
function Monitoring({ stack, app }) {
  const { stream, logGroup } = use7(Ingest);
  const { table, deadLetters, aggregate } = use7(Processing);
  const { budgetAlert, failures: alertFailures } = use7(Alerts);
  use7(Api);
  use7(Reprice);
  const { deliveryStream, transform } = use7(Lake);
  const deliveryStreamName = deliveryStreamNameOf(deliveryStream);
  const key = new kms3.Key(stack, "OpsTopicKey", {
    description: "Encrypts the bedrock-spend ops alarm topic",
    enableKeyRotation: true,
    removalPolicy: removalPolicyOf(app.stage)
  });
  key.addToResourcePolicy(
    new iam8.PolicyStatement({
      sid: "AllowCloudWatchAlarmsToPublishToTheEncryptedTopic",
      principals: [new iam8.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: ["*"]
    })
  );
  const topic = new sns2.Topic(stack, "OpsTopic", { displayName: "bedrock-spend pipeline alarms", masterKey: key, enforceSSL: true });
  topic.addToResourcePolicy(
    new iam8.PolicyStatement({
      sid: "AllowThisAccountsAlarms",
      principals: [new iam8.ServicePrincipal("cloudwatch.amazonaws.com")],
      actions: ["sns:Publish"],
      resources: [topic.topicArn],
      conditions: {
        ArnLike: { "aws:SourceArn": `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        StringEquals: { "aws:SourceAccount": stack.account }
      }
    })
  );
  const opsEmail = config().opsEmail;
  if (opsEmail)
    topic.addSubscription(new EmailSubscription2(opsEmail));
  const action = new SnsAction(topic);
  const alarms = [];
  const alarm = /* @__PURE__ */ __name((id, metric, props) => {
    const created = new cloudwatch.Alarm(stack, id, {
      alarmName: `${app.name}-${app.stage}-${id}`,
      alarmDescription: props.description,
      metric,
      threshold: props.threshold,
      comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.evaluationPeriods ?? 1,
      // No data means no traffic (or, for SQS, an empty queue nobody touched for 6 hours): healthy.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING
    });
    created.addAlarmAction(action);
    created.addOkAction(action);
    alarms.push(created);
    return created;
  }, "alarm");
  const emf = /* @__PURE__ */ __name((metric, dimensionsMap, period, label2, statistic = "Sum") => new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: metric.name, dimensionsMap, statistic, period, ...label2 ? { label: label2 } : {} }), "emf");
  const queueDepth = /* @__PURE__ */ __name((queue, label2) => queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: Duration7.minutes(5), ...label2 ? { label: label2 } : {} }), "queueDepth");
  alarm("DeadLettersNotEmpty", queueDepth(deadLetters), {
    threshold: 0,
    description: "Records the aggregate function could not count are in its dead-letter queue: find the cause, then run the redrive function."
  });
  alarm("AlertFailuresNotEmpty", queueDepth(alertFailures), {
    threshold: 0,
    description: "Budget-alert evaluations failed after their retries (metadata of the stream batch is in the queue)."
  });
  const iteratorAge = /* @__PURE__ */ __name((fn, label2) => fn.metric("IteratorAge", { statistic: "Maximum", period: Duration7.minutes(1), ...label2 ? { label: label2 } : {} }), "iteratorAge");
  alarm("AggregateIteratorAge", iteratorAge(aggregate), {
    threshold: THRESHOLDS.iteratorAgeMs,
    evaluationPeriods: 5,
    description: "The aggregate function is more than 5 minutes behind the Kinesis stream for 5 minutes: aggregates are late."
  });
  alarm("BudgetAlertIteratorAge", iteratorAge(budgetAlert), {
    threshold: THRESHOLDS.iteratorAgeMs,
    evaluationPeriods: 5,
    description: "The budget-alert function is more than 5 minutes behind the table stream for 5 minutes: alerts are late."
  });
  alarm("UnpricedRecords", emf(AGGREGATE_METRICS.unpriced, AGGREGATE_DIMENSIONS, Duration7.hours(1)), {
    threshold: 0,
    description: "Invocations without a price in the last hour (unknown model or unpriced token class): add the price to the catalog overlay and reprice."
  });
  alarm("WriteFailures", emf(AGGREGATE_METRICS.failed, AGGREGATE_DIMENSIONS, Duration7.minutes(5)), {
    threshold: 0,
    description: "The aggregate function failed to write to the aggregates table (retried, then dead-lettered)."
  });
  const functions = /* @__PURE__ */ new Map();
  for (const child of app.node.children) {
    if (!Stack.isStack(child) || child === stack)
      continue;
    for (const construct of child.node.findAll()) {
      if (construct instanceof SstFunction6)
        functions.set(construct.node.path, construct);
    }
  }
  functions.set(transform.node.path, transform);
  const errorMetrics = [];
  const prefix = app.logicalPrefixedName("");
  for (const fn of functions.values()) {
    const stackName = Stack.of(fn).stackName.replace(prefix, "");
    errorMetrics.push(fn.metricErrors({ statistic: "Sum", period: Duration7.minutes(5), label: fn.node.id }));
    alarm(`${stackName}${fn.node.id}Errors`.replace(/[^A-Za-z0-9]/g, ""), fn.metricErrors({ statistic: "Sum", period: Duration7.minutes(5) }), {
      threshold: 0,
      description: `The ${fn.node.id} function (${stackName} stack) reported errors: see its logs.`
    });
  }
  const firehose2 = /* @__PURE__ */ __name((metricName, statistic, label2) => new cloudwatch.Metric({
    namespace: "AWS/Firehose",
    metricName,
    dimensionsMap: { DeliveryStreamName: deliveryStreamName },
    statistic,
    period: Duration7.minutes(5),
    ...label2 ? { label: label2 } : {}
  }), "firehose");
  alarm("FirehoseFreshness", firehose2("DeliveryToS3.DataFreshness", "Maximum"), {
    threshold: THRESHOLDS.firehoseFreshnessSeconds,
    evaluationPeriods: 3,
    description: "Firehose has held a record for more than 15 minutes, for 15 minutes: delivery to the lake is stuck (S3, Glue schema or transform)."
  });
  alarm("FirehoseDeliveryFailing", firehose2("DeliveryToS3.Success", "Average"), {
    threshold: 1,
    comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 3,
    description: "Firehose deliveries to S3 have been failing for 15 minutes (Firehose retries them from the stream)."
  });
  alarm("TransformProcessingFailed", emf(TRANSFORM_METRICS.processingFailed, TRANSFORM_METRIC_DIMENSIONS, Duration7.minutes(15)), {
    threshold: 0,
    description: "The transform returned records as ProcessingFailed: they are kept under the lake's errors/ prefix."
  });
  alarm("TransformOversizeFailed", emf(TRANSFORM_METRICS.oversizeFailed, TRANSFORM_METRIC_DIMENSIONS, Duration7.minutes(15)), {
    threshold: 0,
    description: "The transform's output for some records exceeded Firehose's limits: they are kept under the lake's errors/ prefix."
  });
  const fiveMinutes = Duration7.minutes(5);
  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard", {
    dashboardName: `${app.name}-${app.stage}`,
    defaultInterval: Duration7.hours(6)
  });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# bedrock-spend (${app.stage})
Invocation log group \`${logGroup.logGroupName}\` \u2192 Kinesis \u2192 aggregates (DynamoDB) and lake (Firehose). Records in = counted + duplicates + dropped + quarantined.`,
      width: 24,
      height: 2
    })
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Aggregate path: records",
      width: 12,
      left: ["logEvents", "counted", "duplicates", "dropped", "quarantined", "unpriced"].map(
        (count) => emf(AGGREGATE_METRICS[count], AGGREGATE_DIMENSIONS, fiveMinutes, AGGREGATE_METRICS[count].name)
      )
    }),
    new cloudwatch.GraphWidget({
      title: "Lake path: records",
      width: 12,
      left: ["recordsIn", "usageRows", "unpricedRows", "invalidRecords", "dropped", "processingFailed", "oversizeFailed"].map(
        (count) => emf(TRANSFORM_METRICS[count], TRANSFORM_METRIC_DIMENSIONS, fiveMinutes, TRANSFORM_METRICS[count].name)
      )
    })
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Stream",
      width: 8,
      left: [
        new cloudwatch.Metric({
          namespace: "AWS/Kinesis",
          metricName: "IncomingRecords",
          dimensionsMap: { StreamName: stream.streamName },
          statistic: "Sum",
          period: fiveMinutes,
          label: "Kinesis records in"
        }),
        new cloudwatch.MathExpression({
          expression: `SEARCH('{AWS/Logs,DestinationType,FilterName,LogGroupName} LogGroupName="${logGroup.logGroupName}" MetricName="DeliveryErrors"', 'Sum', 300)`,
          label: "subscription delivery errors",
          usingMetrics: {},
          period: fiveMinutes
        })
      ]
    }),
    new cloudwatch.GraphWidget({
      title: "Iterator age (ms)",
      width: 8,
      left: [iteratorAge(aggregate, "aggregate"), iteratorAge(budgetAlert, "budget-alert")],
      right: [emf(AGGREGATE_METRICS.maxLagMs, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate lag (EMF)", "Maximum")],
      leftAnnotations: [{ value: THRESHOLDS.iteratorAgeMs, label: "alarm" }]
    }),
    new cloudwatch.GraphWidget({
      title: "Write units",
      width: 8,
      left: [
        emf(AGGREGATE_METRICS.writeUnits, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate write units"),
        table.metricConsumedWriteCapacityUnits({ statistic: "Sum", period: fiveMinutes, label: "table consumed WCU" })
      ],
      right: [emf(AGGREGATE_METRICS.failed, AGGREGATE_DIMENSIONS, fiveMinutes, "write failures")]
    })
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: "Lambda errors", width: 8, left: errorMetrics }),
    new cloudwatch.GraphWidget({
      title: "Firehose freshness (s)",
      width: 8,
      left: [firehose2("DeliveryToS3.DataFreshness", "Maximum", "oldest record not yet in S3 (s)")],
      right: [firehose2("DeliveryToS3.Records", "Sum", "records delivered"), firehose2("DeliveryToS3.Success", "Average", "S3 delivery success ratio")],
      leftAnnotations: [{ value: THRESHOLDS.firehoseFreshnessSeconds, label: "alarm" }]
    }),
    new cloudwatch.GraphWidget({
      title: "Dead-letter queues",
      width: 8,
      left: [queueDepth(deadLetters, "aggregate DLQ"), queueDepth(alertFailures, "budget-alert DLQ")]
    })
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: "Cost seen (micro-USD per 5 min, a signal, not a ledger)",
      width: 12,
      left: [
        emf(AGGREGATE_METRICS.costMicroUsd, AGGREGATE_DIMENSIONS, fiveMinutes, "aggregate"),
        emf(TRANSFORM_METRICS.costMicroUsd, TRANSFORM_METRIC_DIMENSIONS, fiveMinutes, "lake")
      ]
    }),
    new cloudwatch.AlarmStatusWidget({ title: "Alarms", width: 12, alarms })
  );
  stack.addOutputs({ OpsTopic: topic.topicArn, Dashboard: dashboard.dashboardName });
  return { topic, alarms, dashboard };
}
__name(Monitoring, "Monitoring");

// sst.config.ts
var NODE_RUNTIME = "nodejs24.x";
var sst_config_default = {
  config() {
    return { name: "bedrock-spend", region: process.env.AWS_REGION ?? "us-east-1" };
  },
  stacks(app) {
    config();
    app.setDefaultFunctionProps({
      runtime: NODE_RUNTIME,
      architecture: "arm_64",
      tracing: "active",
      nodejs: { format: "esm", minify: true, esbuild: { keepNames: false, plugins: [gzippedJson(), httpBuiltinsAsCommonJs()] } }
    });
    app.stack(Ingest).stack(Processing).stack(Lake).stack(Analytics).stack(Alerts).stack(Api).stack(Reprice).stack(Monitoring);
    Aspects.of(app).add(everyNodeFunctionOn(NODE_RUNTIME));
  }
};
function everyNodeFunctionOn(runtime) {
  return {
    visit(node) {
      if (!CfnResource2.isCfnResource(node) || node.cfnResourceType !== "AWS::Lambda::Function")
        return;
      const fn = node;
      if (fn.runtime?.startsWith("nodejs"))
        fn.runtime = runtime;
    }
  };
}
__name(everyNodeFunctionOn, "everyNodeFunctionOn");
export {
  sst_config_default as default
};
