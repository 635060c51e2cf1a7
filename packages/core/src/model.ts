/**
 * Model resolution: from the `modelId` Bedrock logged (whatever string the caller passed) to the
 * base model id that prices are keyed by, and the inference profile that picks the price tier.
 *
 * Forms handled: plain ids (`anthropic.claude-3-5-haiku-20241022-v1:0`), system-defined profile ids
 * (`us.`, `eu.`, `apac.`, `jp.`, `au.`, `us-gov.`, `global.` + id), foundation-model ARNs,
 * inference-profile ARNs, and application-inference-profile ARNs, which do not name their model
 * and are resolved through an `ApplicationProfileLookup` (a map file, or `GetInferenceProfile`).
 */
import { ConfigurationError } from "./errors";

/** System-defined inference profile prefixes, i.e. the price tiers other than in-Region. */
export const PROFILE_PREFIXES = ["global", "us", "eu", "apac", "jp", "au", "us-gov"] as const;
/** A system-defined profile prefix. */
export type ProfilePrefix = (typeof PROFILE_PREFIXES)[number];
/** The price tier a request was served under: a profile prefix or `none` (in-Region). */
export type PricingProfile = ProfilePrefix | "none";
/** The `profile` reported for a record: a pricing profile, or `application`. */
export type ReportedProfile = PricingProfile | "application";

const PREFIX_SET: ReadonlySet<string> = new Set(PROFILE_PREFIXES);

/** What an application inference profile stands for. */
export interface ApplicationProfileTarget {
  /** Base model id of the profile's model. */
  model: string;
  /** Tier the profile's calls are priced at: `none` for a copy of a foundation model, or the prefix of the system profile it copies. */
  pricingProfile: PricingProfile;
  /** The profile's tags, when known (kept as extra attribution). */
  tags?: Readonly<Record<string, string>>;
}

/** Synchronous lookup of application inference profiles (backed by a map file or a warmed cache). */
export interface ApplicationProfileLookup {
  get(arn: string): ApplicationProfileTarget | undefined;
  /** Why `arn` does not resolve (a failed or negative fetch), when the lookup knows. */
  reasonFor?(arn: string): string | undefined;
  /** Fetches what the synchronous `get` will be asked for (a batch's model ids); returns the ARNs that failed. */
  warm?(modelIds: Iterable<string>): Promise<string[]>;
}

/** Result of resolving a logged model id. */
export type ModelResolution =
  | {
      ok: true;
      model: string;
      profile: ReportedProfile;
      pricingProfile: PricingProfile;
      applicationProfile?: ApplicationProfileTarget;
    }
  | {
      ok: false;
      model: string | null;
      profile: ReportedProfile | "unknown";
      reason: string;
    };

const ARN = /^arn:aws(?:-[a-z]+)*:bedrock:([a-z0-9-]*):(\d{12})?:([a-z-]+)\/(.+)$/;

/** Splits a profile prefix off an id: `us.anthropic.x` -> `{ prefix: "us", model: "anthropic.x" }`. */
export function splitProfilePrefix(id: string): {
  prefix: PricingProfile;
  model: string;
} {
  const dot = id.indexOf(".");
  if (dot > 0) {
    const head = id.slice(0, dot);
    if (PREFIX_SET.has(head)) return { prefix: head as ProfilePrefix, model: id.slice(dot + 1) };
  }
  return { prefix: "none", model: id };
}

/**
 * Resolves a logged `modelId`. Pure and synchronous: application profiles come from `lookup`,
 * which an adapter warms with `GetInferenceProfile` before a batch is priced.
 */
export function resolveModel(modelId: string, lookup?: ApplicationProfileLookup): ModelResolution {
  const arn = ARN.exec(modelId);
  if (!arn) {
    const { prefix, model } = splitProfilePrefix(modelId);
    return { ok: true, model, profile: prefix, pricingProfile: prefix };
  }
  const [, , , resourceType, resource = ""] = arn;
  switch (resourceType) {
    case "foundation-model":
      return {
        ok: true,
        model: resource,
        profile: "none",
        pricingProfile: "none",
      };
    case "inference-profile": {
      const { prefix, model } = splitProfilePrefix(resource);
      return { ok: true, model, profile: prefix, pricingProfile: prefix };
    }
    case "application-inference-profile": {
      const target = lookup?.get(modelId);
      if (!target) {
        return {
          ok: false,
          model: null,
          profile: "application",
          reason:
            lookup?.reasonFor?.(modelId) ??
            `application inference profile ${modelId} is not resolved: add it to the profile map (--profiles) or allow bedrock:GetInferenceProfile`,
        };
      }
      return {
        ok: true,
        model: target.model,
        profile: "application",
        pricingProfile: target.pricingProfile,
        applicationProfile: target,
      };
    }
    case "provisioned-model":
    case "custom-model":
    case "imported-model":
    case "custom-model-deployment":
      return {
        ok: false,
        model: null,
        profile: "none",
        reason: `${resourceType} invocations are billed per model-unit hour or per deployment, not per token; not priced`,
      };
    default:
      return {
        ok: false,
        model: null,
        profile: "unknown",
        reason: `unrecognized Bedrock ARN resource type "${resourceType}" in modelId`,
      };
  }
}

/** An application-profile map loaded from a file: `{ "<arn>": { "model": "...", "pricingProfile": "us" } }`. */
export class StaticProfileMap implements ApplicationProfileLookup {
  private readonly entries: ReadonlyMap<string, ApplicationProfileTarget>;

  constructor(entries: ReadonlyMap<string, ApplicationProfileTarget> = new Map()) {
    this.entries = entries;
  }

  /** Validates a parsed map file. Throws `ConfigurationError` naming the bad entry. */
  static fromJson(json: unknown, origin = "profiles"): StaticProfileMap {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new ConfigurationError(origin, "must be a JSON object keyed by application-inference-profile ARN");
    }
    const entries = new Map<string, ApplicationProfileTarget>();
    for (const [arn, value] of Object.entries(json)) {
      const match = ARN.exec(arn);
      if (match?.[3] !== "application-inference-profile") {
        throw new ConfigurationError(origin, `key "${arn}" is not an application-inference-profile ARN`);
      }
      const target = typeof value === "string" ? { model: value } : value;
      if (typeof target !== "object" || target === null || typeof (target as { model?: unknown }).model !== "string") {
        throw new ConfigurationError(origin, `"${arn}": expected a model id string or { "model": "...", "pricingProfile": "..." }`);
      }
      const { model: rawModel, pricingProfile, tags } = target as { model: string; pricingProfile?: unknown; tags?: unknown };
      // A map may name the model by profile id or ARN; reduce it to the base id.
      const inner = resolveModel(rawModel);
      if (!inner.ok || inner.profile === "application") {
        throw new ConfigurationError(origin, `"${arn}": model "${rawModel}" is not a model id, profile id or foundation-model ARN`);
      }
      let tier: PricingProfile = inner.pricingProfile;
      if (pricingProfile !== undefined) {
        if (typeof pricingProfile !== "string" || !(pricingProfile === "none" || PREFIX_SET.has(pricingProfile))) {
          throw new ConfigurationError(origin, `"${arn}": pricingProfile must be one of none, ${PROFILE_PREFIXES.join(", ")}`);
        }
        tier = pricingProfile as PricingProfile;
      }
      const entry: ApplicationProfileTarget = {
        model: inner.model,
        pricingProfile: tier,
      };
      if (tags !== undefined) {
        if (typeof tags !== "object" || tags === null || Array.isArray(tags) || !Object.values(tags).every((tag) => typeof tag === "string")) {
          throw new ConfigurationError(origin, `"${arn}": tags must be an object of strings`);
        }
        entry.tags = tags as Record<string, string>;
      }
      entries.set(arn, entry);
    }
    return new StaticProfileMap(entries);
  }

  get(arn: string): ApplicationProfileTarget | undefined {
    return this.entries.get(arn);
  }
}

/** Asynchronous source of application profiles, e.g. an adapter over `bedrock:GetInferenceProfile`. */
export interface ApplicationProfileSource {
  /** Returns the target, or undefined when the profile does not exist. Throws on transient or permission errors; the message says why. */
  fetch(arn: string): Promise<ApplicationProfileTarget | undefined>;
}

/** Options of a `CachingProfileResolver`. */
export interface CachingProfileResolverOptions {
  /** How long a resolved profile is served before it is fetched again (default 1 hour). */
  ttlMillis?: number;
  /** How long "this profile does not exist" is served (default 5 minutes: a profile created after the first call is seen soon). */
  negativeTtlMillis?: number;
  /** Profiles kept at most; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** Fetched at most this many at once while warming (default 8: the control plane's rate is per account). */
  concurrency?: number;
  /** Overrides that are never fetched (the static map file). */
  fallback?: ApplicationProfileLookup;
  now?: () => number;
}

interface CacheEntry {
  target: ApplicationProfileTarget | undefined;
  expires: number;
}

const APPLICATION_PROFILE_MARKER = ":application-inference-profile/";

/**
 * Caches an `ApplicationProfileSource` so that each profile is fetched once per TTL, and serves the
 * synchronous lookup the pricer needs. Call `warm` with a batch's model ids before pricing it (the
 * pipeline does, through `Pricer.prepare`); one resolver is shared by whatever prices in a process.
 *
 * A failed fetch is not cached: the next batch retries. Until then a profile known before (its
 * entry expired) is served as it was, so that a throttled or unreachable control plane does not
 * turn known profiles unpriced; a profile never resolved stays unpriced with the failure as reason.
 */
export class CachingProfileResolver implements ApplicationProfileLookup {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly failures = new Map<string, string>();
  private readonly ttl: number;
  private readonly negativeTtl: number;
  private readonly maxEntries: number;
  private readonly concurrency: number;
  private readonly now: () => number;

  constructor(
    private readonly source: ApplicationProfileSource,
    private readonly options: CachingProfileResolverOptions = {},
  ) {
    this.ttl = positive(options.ttlMillis, 3_600_000, "ttlMillis");
    this.negativeTtl = positive(options.negativeTtlMillis, 300_000, "negativeTtlMillis");
    this.maxEntries = positive(options.maxEntries, 10_000, "maxEntries");
    this.concurrency = positive(options.concurrency, 8, "concurrency");
    this.now = options.now ?? Date.now;
  }

  /** Profiles cached (resolved or known missing). */
  get size(): number {
    return this.cache.size;
  }

  /**
   * Fetches every application-profile ARN among `modelIds` that is not cached or has expired, at
   * most `concurrency` at a time. Returns the ARNs whose fetch failed (their reason is `reasonFor`).
   */
  async warm(modelIds: Iterable<string>): Promise<string[]> {
    const now = this.now();
    const wanted = new Set<string>();
    for (const id of modelIds) {
      if (!id.includes(APPLICATION_PROFILE_MARKER) || wanted.has(id)) continue;
      if (this.options.fallback?.get(id)) continue;
      const cached = this.cache.get(id);
      if (!cached || cached.expires <= now) wanted.add(id);
    }
    const failed: string[] = [];
    const queue = [...wanted];
    const worker = async () => {
      for (let arn = queue.shift(); arn !== undefined; arn = queue.shift()) {
        try {
          const target = await this.source.fetch(arn);
          this.remember(arn, { target, expires: now + (target ? this.ttl : this.negativeTtl) });
          this.failures.delete(arn);
        } catch (error) {
          failed.push(arn);
          this.failures.set(arn, error instanceof Error ? error.message : String(error));
          if (this.failures.size > this.maxEntries) this.failures.delete(this.failures.keys().next().value as string);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
    return failed;
  }

  get(arn: string): ApplicationProfileTarget | undefined {
    const override = this.options.fallback?.get(arn);
    if (override) return override;
    const entry = this.cache.get(arn);
    if (!entry) return undefined;
    // Least recently used first out: a hit moves the entry to the end of the Map's order.
    this.cache.delete(arn);
    this.cache.set(arn, entry);
    return entry.target;
  }

  /** Why a profile did not resolve: the last failed fetch, "not found", or undefined when it resolves. */
  reasonFor(arn: string): string | undefined {
    if (this.get(arn)) return undefined;
    const failure = this.failures.get(arn);
    if (failure !== undefined) return failure;
    if (this.cache.has(arn))
      return `application inference profile ${arn} does not exist (bedrock:GetInferenceProfile answered ResourceNotFoundException): deleted, or in another account or Region`;
    return undefined;
  }

  private remember(arn: string, entry: CacheEntry): void {
    this.cache.delete(arn);
    this.cache.set(arn, entry);
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigurationError("profile resolver", `${name} must be a positive integer, got ${value}`);
  return value;
}

/** The application-profile ARNs among decoded items' model ids, each once: what a batch warms. */
export function applicationProfileIds(modelIds: Iterable<unknown>): string[] {
  const found = new Set<string>();
  for (const id of modelIds) if (typeof id === "string" && id.includes(APPLICATION_PROFILE_MARKER)) found.add(id);
  return [...found];
}
