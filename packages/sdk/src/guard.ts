/**
 * The budget guard: before a Bedrock call, look up the tenant's month spend and budget and refuse
 * the call when a limit is reached. Lookups are cached per (tenant, month) for a short TTL and
 * concurrent lookups of the same key share one request (single flight).
 *
 * Money is compared exactly: decimal strings parsed into integer pico-dollars with the pipeline's
 * own `parseUsd` (`@bedrock-spend/core/money`, inlined into the published build).
 */
import { parseUsd } from "@bedrock-spend/core/money";
import { normalizeId } from "@bedrock-spend/core/text";
import type { CallPriority } from "./context";
import { BudgetExceededError, type BudgetLimit, BudgetLookupError, InvalidOptionsError } from "./errors";

/** A tenant's spend and budget for one month, as a spend source reports them. */
export interface MonthStatus {
  /** Spend of the month so far, exact decimal USD (e.g. `"12.345678"`). */
  spendUsd: string;
  /** The budget that applies to the tenant, or null when none does. */
  budget: { monthlyUsd: string } | null;
}

/** Where the guard reads a tenant's month status: the spend API, the aggregates table, or your own. */
export interface SpendSource {
  /**
   * The tenant's status for `month` (`YYYY-MM`, UTC). A tenant with no usage and no budget has a
   * zero spend and a null budget. Rejects when the status cannot be read; the guard applies
   * `onLookupError`. `signal` aborts when the guard's lookup timeout passes.
   */
  monthStatus(tenantId: string, month: string, options?: { signal?: AbortSignal }): Promise<MonthStatus>;
}

/** What the guard does when a lookup fails or times out. */
export type LookupErrorPolicy = "fail-open" | "fail-closed";

/** Options of a budget guard. */
export interface BudgetGuardOptions {
  /** Where month statuses come from: `spendApiSource(...)`, `aggregatesTableSource(...)` or your own. */
  source: SpendSource;
  /** Percent of the budget from which calls that are not `essential` are refused. Integer, default 100. */
  softLimitPercent?: number;
  /** Percent of the budget from which every call is refused. Integer >= the soft limit, default 120. */
  hardLimitPercent?: number;
  /** `fail-open` (default): a failed lookup lets the call through and warns. `fail-closed`: it throws `BudgetLookupError`. */
  onLookupError?: LookupErrorPolicy;
  /** How long a month status is reused, ms. Default 30,000; 0 disables the cache (single flight still applies). */
  cacheTtlMs?: number;
  /** How long a lookup may take, ms. Default 2,000. */
  lookupTimeoutMs?: number;
  /** Most (tenant, month) statuses kept; the oldest is dropped beyond it. Default 10,000. */
  maxCacheEntries?: number;
  /** Clock, epoch ms (the month and the cache use it). Default `Date.now`. */
  now?: () => number;
  /** Told of lookups that failed open. Default: `console.warn`. */
  onWarning?: (warning: { code: "budget-lookup-failed"; message: string; error: BudgetLookupError }) => void;
}

/** The guard's verdict on a call it let through. */
export interface BudgetDecision {
  tenantId: string;
  month: string;
  /**
   * `no-budget`: none applies. `under`: below the soft limit. `essential-over-soft`: between the
   * limits, passed as essential. `lookup-failed-open`: the status could not be read.
   */
  outcome: "no-budget" | "under" | "essential-over-soft" | "lookup-failed-open";
  spendUsd: string | null;
  budgetUsd: string | null;
}

const DEFAULTS = { softLimitPercent: 100, hardLimitPercent: 120, cacheTtlMs: 30_000, lookupTimeoutMs: 2_000, maxCacheEntries: 10_000 };

/** The calendar month (UTC) of an instant, `YYYY-MM`. */
export function monthOf(epochMillis: number): string {
  return new Date(epochMillis).toISOString().slice(0, 7);
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a tenant's month spend against its budget before a call. Construct once and share: the
 * cache and the single-flight map live in the instance. Options are validated at construction
 * (an `InvalidOptionsError` names the bad one), so a misconfigured guard never runs.
 */
export class BudgetGuard {
  readonly softLimitPercent: number;
  readonly hardLimitPercent: number;
  readonly onLookupError: LookupErrorPolicy;
  private readonly source: SpendSource;
  private readonly cacheTtlMs: number;
  private readonly lookupTimeoutMs: number;
  private readonly maxCacheEntries: number;
  private readonly now: () => number;
  private readonly onWarning: NonNullable<BudgetGuardOptions["onWarning"]>;
  private readonly cache = new Map<string, { status: MonthStatus; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<MonthStatus>>();

  constructor(options: BudgetGuardOptions) {
    if (typeof options !== "object" || options === null) throw new InvalidOptionsError("budgetGuard", "must be an object with a source");
    if (typeof options.source?.monthStatus !== "function") {
      throw new InvalidOptionsError(
        "budgetGuard.source",
        "must have a monthStatus(tenantId, month) method (spendApiSource(...) or aggregatesTableSource(...))",
      );
    }
    this.source = options.source;
    this.softLimitPercent = integerOption("budgetGuard.softLimitPercent", options.softLimitPercent, DEFAULTS.softLimitPercent, 1, 100_000);
    this.hardLimitPercent = integerOption(
      "budgetGuard.hardLimitPercent",
      options.hardLimitPercent,
      Math.max(DEFAULTS.hardLimitPercent, this.softLimitPercent),
      1,
      100_000,
    );
    if (this.hardLimitPercent < this.softLimitPercent) {
      throw new InvalidOptionsError(
        "budgetGuard.hardLimitPercent",
        `must be at least softLimitPercent (${this.softLimitPercent}), got ${this.hardLimitPercent}`,
      );
    }
    const policy = options.onLookupError ?? "fail-open";
    if (policy !== "fail-open" && policy !== "fail-closed") {
      throw new InvalidOptionsError("budgetGuard.onLookupError", `must be "fail-open" or "fail-closed", got ${JSON.stringify(policy)}`);
    }
    this.onLookupError = policy;
    this.cacheTtlMs = integerOption("budgetGuard.cacheTtlMs", options.cacheTtlMs, DEFAULTS.cacheTtlMs, 0, 86_400_000);
    this.lookupTimeoutMs = integerOption("budgetGuard.lookupTimeoutMs", options.lookupTimeoutMs, DEFAULTS.lookupTimeoutMs, 1, 600_000);
    this.maxCacheEntries = integerOption("budgetGuard.maxCacheEntries", options.maxCacheEntries, DEFAULTS.maxCacheEntries, 1, 10_000_000);
    if (options.now !== undefined && typeof options.now !== "function")
      throw new InvalidOptionsError("budgetGuard.now", "must be a function returning epoch ms");
    this.now = options.now ?? Date.now;
    if (options.onWarning !== undefined && typeof options.onWarning !== "function")
      throw new InvalidOptionsError("budgetGuard.onWarning", "must be a function");
    this.onWarning = options.onWarning ?? ((warning) => console.warn(`[@bedrock-spend/sdk] ${warning.message}`));
  }

  /**
   * Decides on a call of `tenantId` now. Resolves with the decision when the call may go; throws
   * `BudgetExceededError` when a limit is reached (the hard one for every call, the soft one for
   * calls that are not `essential`), or `BudgetLookupError` when the status cannot be read and
   * the policy is `fail-closed`. A limit is reached when spend >= budget x percent / 100. The id
   * is normalized as the pipeline normalizes metadata values (` acme ` is checked as `acme`).
   */
  async check(rawTenantId: string, options: { priority?: CallPriority } = {}): Promise<BudgetDecision> {
    const tenantId = normalizeId(rawTenantId);
    const month = monthOf(this.now());
    let status: MonthStatus;
    let budgetPico: bigint | undefined;
    let spendPico: bigint | undefined;
    try {
      status = await this.monthStatus(tenantId, month);
      spendPico = parseUsd(String(status.spendUsd));
      budgetPico = status.budget === null ? undefined : parseUsd(String(status.budget.monthlyUsd));
      if (spendPico === undefined) throw malformed(tenantId, month, `spendUsd ${JSON.stringify(status.spendUsd)} is not a decimal amount`);
      if (status.budget !== null && (budgetPico === undefined || budgetPico <= 0n)) {
        throw malformed(tenantId, month, `budget.monthlyUsd ${JSON.stringify(status.budget.monthlyUsd)} is not a positive decimal amount`);
      }
    } catch (error) {
      const lookupError =
        error instanceof BudgetLookupError
          ? error
          : new BudgetLookupError({ tenantId, month, reason: "failed", message: (error as Error)?.message ?? String(error) }, { cause: error });
      if (this.onLookupError === "fail-closed") throw lookupError;
      this.onWarning({
        code: "budget-lookup-failed",
        message: `${lookupError.message}; the call goes through (onLookupError: "fail-open")`,
        error: lookupError,
      });
      return { tenantId, month, outcome: "lookup-failed-open", spendUsd: null, budgetUsd: null };
    }
    if (status.budget === null || budgetPico === undefined) return { tenantId, month, outcome: "no-budget", spendUsd: status.spendUsd, budgetUsd: null };
    const budgetUsd = status.budget.monthlyUsd;
    const reached = (percent: number) => spendPico * 100n >= budgetPico * BigInt(percent);
    const refuse = (limit: BudgetLimit, limitPercent: number) =>
      new BudgetExceededError({ tenantId, month, spendUsd: status.spendUsd, budgetUsd, limit, limitPercent });
    if (reached(this.hardLimitPercent)) throw refuse("hard", this.hardLimitPercent);
    if (reached(this.softLimitPercent)) {
      if (options.priority !== "essential") throw refuse("soft", this.softLimitPercent);
      return { tenantId, month, outcome: "essential-over-soft", spendUsd: status.spendUsd, budgetUsd };
    }
    return { tenantId, month, outcome: "under", spendUsd: status.spendUsd, budgetUsd };
  }

  /** The tenant's month status, from the cache when fresh, else from the source (one lookup per key at a time). */
  monthStatus(tenantId: string, month: string): Promise<MonthStatus> {
    const key = `${month}\u0000${tenantId}`;
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.expiresAt) return Promise.resolve(cached.status);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const lookup = this.lookup(tenantId, month)
      .then((status) => {
        if (this.cacheTtlMs > 0) {
          this.cache.delete(key);
          this.cache.set(key, { status, expiresAt: this.now() + this.cacheTtlMs });
          // Map order is insertion order: the first key is the oldest entry.
          if (this.cache.size > this.maxCacheEntries) this.cache.delete(this.cache.keys().next().value as string);
        }
        return status;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, lookup);
    return lookup;
  }

  /** Forgets cached statuses (of one tenant, or all). */
  clear(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else for (const key of [...this.cache.keys()]) if (key.slice(key.indexOf("\u0000") + 1) === tenantId) this.cache.delete(key);
  }

  private lookup(tenantId: string, month: string): Promise<MonthStatus> {
    const controller = new AbortController();
    return new Promise<MonthStatus>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new BudgetLookupError({ tenantId, month, reason: "timeout", message: `no answer within ${this.lookupTimeoutMs} ms` });
        controller.abort(error);
        reject(error);
      }, this.lookupTimeoutMs);
      let pending: Promise<MonthStatus>;
      try {
        pending = Promise.resolve(this.source.monthStatus(tenantId, month, { signal: controller.signal }));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }
}

function malformed(tenantId: string, month: string, message: string): BudgetLookupError {
  return new BudgetLookupError({ tenantId, month, reason: "malformed", message });
}
