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
          reason: `application inference profile ${modelId} is not resolved: add it to the profile map (--profiles) or allow bedrock:GetInferenceProfile`,
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
  /** Returns the target, or undefined when the profile does not exist. May throw on transient errors. */
  fetch(arn: string): Promise<ApplicationProfileTarget | undefined>;
}

/**
 * Caches an `ApplicationProfileSource` so that each profile is fetched once per `ttlMillis`, and
 * serves the synchronous lookup the pricer needs. Call `warm` with a batch's ARNs before pricing.
 * A failed fetch is not cached as "missing": the records stay unpriced and the next batch retries.
 */
export class CachingProfileResolver implements ApplicationProfileLookup {
  private readonly cache = new Map<string, { target: ApplicationProfileTarget | undefined; expires: number }>();

  constructor(
    private readonly source: ApplicationProfileSource,
    private readonly options: {
      ttlMillis?: number;
      fallback?: ApplicationProfileLookup;
      now?: () => number;
    } = {},
  ) {}

  /** Fetches every ARN not cached (or expired), concurrently. Returns the ARNs whose fetch failed. */
  async warm(modelIds: Iterable<string>): Promise<string[]> {
    const now = (this.options.now ?? Date.now)();
    const ttl = this.options.ttlMillis ?? 3_600_000;
    const wanted = new Set<string>();
    for (const id of modelIds) {
      if (!id.includes(":application-inference-profile/")) continue;
      if (this.options.fallback?.get(id)) continue;
      const cached = this.cache.get(id);
      if (!cached || cached.expires <= now) wanted.add(id);
    }
    const failed: string[] = [];
    await Promise.all(
      [...wanted].map(async (arn) => {
        try {
          this.cache.set(arn, {
            target: await this.source.fetch(arn),
            expires: now + ttl,
          });
        } catch {
          failed.push(arn);
        }
      }),
    );
    return failed;
  }

  get(arn: string): ApplicationProfileTarget | undefined {
    return this.options.fallback?.get(arn) ?? this.cache.get(arn)?.target;
  }
}
