/**
 * Attribution: which tenant, tenant group, department, user and application an invocation
 * belongs to, read from its `requestMetadata` through an alias map.
 *
 * Applications spell their keys many ways (`tenantId`, `TenantID`, `tenant_id`, `tenant`), so
 * keys are compared after normalization: lower case, with `_`, `-`, `.`, `:` and whitespace removed.
 * All metadata is kept as-is in `metadata`; the alias map only decides the named dimensions.
 */
import { ConfigurationError } from "./errors";
import { normalizeId } from "./text";

/** The dimensions attribution fills. */
export const ATTRIBUTION_DIMENSIONS = ["tenantId", "tenantGroup", "departmentId", "userId", "applicationId"] as const;
/** One attribution dimension. */
export type AttributionDimension = (typeof ATTRIBUTION_DIMENSIONS)[number];

/** Metadata keys accepted per dimension, in priority order (the first present key wins). */
export type AliasMap = Readonly<Record<AttributionDimension, readonly string[]>>;

/** Tenant id given to a record whose metadata names no tenant. Such records are never dropped. */
export const UNATTRIBUTED = "unattributed";

/** Default aliases: the usual spellings, compared case-insensitively and ignoring separators. */
export const DEFAULT_ALIASES: AliasMap = {
  tenantId: ["tenantId", "tenant", "tenantKey", "customerId", "customer", "accountTenant"],
  tenantGroup: ["tenantGroup", "tenantTier", "tier", "plan", "segment", "group"],
  departmentId: ["departmentId", "department", "dept", "deptId", "team", "teamId"],
  userId: ["userId", "user", "endUserId", "endUser", "username"],
  applicationId: ["applicationId", "application", "appId", "app"],
};

/**
 * Default tag keys of an application inference profile per dimension, in priority order: the
 * spellings of cost-allocation tags that teams use (compared like metadata keys, ignoring case
 * and separators, so `cost-center` also matches `CostCenter`).
 */
export const DEFAULT_TAG_KEYS: AliasMap = {
  tenantId: ["tenantId", "tenant", "customerId", "customer"],
  tenantGroup: ["tenantGroup", "tenantTier", "tier", "plan", "segment"],
  departmentId: ["departmentId", "department", "costCenter", "dept", "team"],
  userId: ["userId", "user", "owner"],
  applicationId: ["applicationId", "application", "appId", "app", "project"],
};

/** Normalizes a metadata key for alias comparison. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[\s_\-.:]/g, "");
}

/** The attribution of one invocation. */
export interface Attribution {
  tenantId: string;
  tenantGroup: string | null;
  departmentId: string | null;
  userId: string | null;
  applicationId: string | null;
}

/** Where a metadata key's value goes: a dimension (and its position in ATTRIBUTION_DIMENSIONS), with its alias priority. */
interface AliasMatch {
  dimension: AttributionDimension;
  slot: number;
  priority: number;
}

/** Keys remembered per attributor: every record repeats the same few metadata keys. */
const MAX_REMEMBERED_KEYS = 4096;

/** Compiled alias map: normalized key to (dimension, priority). */
export class Attributor {
  private readonly lookup: ReadonlyMap<string, AliasMatch>;
  /** Metadata keys as written (not normalized) to their match, or null for a key no alias names. */
  private readonly byRawKey = new Map<string, AliasMatch | null>();

  /** `origin` names the map in the error a key mapped to two dimensions raises (a file, a variable). */
  constructor(aliases: AliasMap = DEFAULT_ALIASES, origin = "aliases") {
    const lookup = new Map<string, AliasMatch>();
    ATTRIBUTION_DIMENSIONS.forEach((dimension, slot) => {
      aliases[dimension].forEach((alias, priority) => {
        const key = normalizeKey(alias);
        const taken = lookup.get(key);
        if (taken && taken.dimension !== dimension) {
          throw new ConfigurationError(origin, `key "${alias}" is mapped to both ${taken.dimension} and ${dimension}`);
        }
        if (!taken) lookup.set(key, { dimension, slot, priority });
      });
    });
    this.lookup = lookup;
  }

  /** Reads the named dimensions from metadata, each value through `normalizeId`. Blank values count as absent. */
  attribute(metadata: Readonly<Record<string, string>>): Attribution {
    // Runs for every record: plain slots per dimension (in ATTRIBUTION_DIMENSIONS order), no entry arrays.
    const values: Array<string | undefined> = [undefined, undefined, undefined, undefined, undefined];
    const priorities: number[] = [0, 0, 0, 0, 0];
    for (const key in metadata) {
      if (!Object.hasOwn(metadata, key)) continue;
      let match = this.byRawKey.get(key);
      if (match === undefined) {
        if (this.byRawKey.size >= MAX_REMEMBERED_KEYS) this.byRawKey.clear();
        match = this.lookup.get(normalizeKey(key)) ?? null;
        this.byRawKey.set(key, match);
      }
      if (match === null) continue;
      const value = normalizeId(metadata[key] as string);
      if (value.length === 0) continue;
      const slot = match.slot;
      if (values[slot] === undefined || match.priority < (priorities[slot] as number)) {
        values[slot] = value;
        priorities[slot] = match.priority;
      }
    }
    return {
      tenantId: values[0] ?? UNATTRIBUTED,
      tenantGroup: values[1] ?? null,
      departmentId: values[2] ?? null,
      userId: values[3] ?? null,
      applicationId: values[4] ?? null,
    };
  }
}

/**
 * Builds an alias map from a user's overrides (e.g. `{"tenantId": ["acct"]}` from a JSON file):
 * listed dimensions replace the defaults, the others keep them.
 */
export function aliasMapFrom(overrides: unknown, origin = "aliases", defaults: AliasMap = DEFAULT_ALIASES): AliasMap {
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    throw new ConfigurationError(origin, "must be a JSON object mapping dimensions to arrays of keys");
  }
  const result: Record<AttributionDimension, readonly string[]> = {
    ...defaults,
  };
  for (const [dimension, keys] of Object.entries(overrides)) {
    if (!(ATTRIBUTION_DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new ConfigurationError(origin, `unknown dimension "${dimension}"; expected one of ${ATTRIBUTION_DIMENSIONS.join(", ")}`);
    }
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((key) => typeof key === "string" && key.length > 0)) {
      throw new ConfigurationError(origin, `${dimension} must be a non-empty array of key names`);
    }
    result[dimension as AttributionDimension] = keys as string[];
  }
  // A key two dimensions claim (one listed here, one by default) is refused now, naming the file.
  new Attributor(result, origin);
  return result;
}

/**
 * Builds the tag-key map of application inference profiles from a user's overrides
 * (`{"tenantId": ["tenant", "customer"], "departmentId": ["cost-center"]}`): listed dimensions
 * replace `DEFAULT_TAG_KEYS`, the others keep them.
 */
export function tagKeyMapFrom(overrides: unknown, origin = "profile tag keys"): AliasMap {
  return aliasMapFrom(overrides, origin, DEFAULT_TAG_KEYS);
}

/**
 * Attribution from request metadata, completed from the profile's tags: each dimension the
 * metadata does not name (a tenant of `unattributed`) takes the tag's value. Metadata wins.
 */
export function completeFromTags(fromMetadata: Attribution, fromTags: Attribution): Attribution {
  return {
    tenantId: fromMetadata.tenantId === UNATTRIBUTED ? fromTags.tenantId : fromMetadata.tenantId,
    tenantGroup: fromMetadata.tenantGroup ?? fromTags.tenantGroup,
    departmentId: fromMetadata.departmentId ?? fromTags.departmentId,
    userId: fromMetadata.userId ?? fromTags.userId,
    applicationId: fromMetadata.applicationId ?? fromTags.applicationId,
  };
}
