/**
 * A few tenants that call Bedrock through their own application inference profile, tagged for cost
 * allocation as teams tag them (with the key spellings teams use): what local mode creates on its
 * Bedrock stand-in, so that the pipeline resolves profiles and attributes by tags as on AWS.
 */
import { DEFAULT_ACCOUNT_ID, DEFAULT_REGION } from "./models";
import { tenantAt } from "./tenants";

/** One tenant's application inference profile, as CreateInferenceProfile takes it. */
export interface TenantProfileSpec {
  /** The tenant the profile is for (what its tags name). */
  tenantId: string;
  /** `inferenceProfileName`. */
  name: string;
  /** `modelSource.copyFrom`: a system-defined profile or a foundation model ARN. */
  copyFrom: string;
  /** The profile's cost-allocation tags. */
  tags: Record<string, string>;
}

/**
 * Zipf ranks (0-based) of the tenants with a profile: large enough to show on the dashboard, not
 * the largest, whose metadata-only traffic the samples and benchmarks describe.
 */
export const TENANT_PROFILE_RANKS = [2, 4, 7] as const;

/** The per-tenant profiles of a population of `tenants` (default 10,000), in one account and Region. */
export function tenantProfileSpecs(options: { tenants?: number; accountId?: string; region?: string } = {}): TenantProfileSpec[] {
  const population = options.tenants ?? 10_000;
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  const region = options.region ?? DEFAULT_REGION;
  const systemProfile = (id: string) => `arn:aws:bedrock:${region}:${accountId}:inference-profile/${id}`;
  const sources = [
    systemProfile("us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    systemProfile("global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    `arn:aws:bedrock:${region}::foundation-model/amazon.nova-lite-v1:0`,
  ];
  // Three tagging conventions: the default tag keys read each of them.
  const tagsOf = [
    (tenantId: string) => ({ tenant: tenantId, "cost-center": "cc-support", project: "support-assistant" }),
    (tenantId: string) => ({ Tenant: tenantId, CostCenter: "cc-research", Application: "research-agent" }),
    (tenantId: string) => ({ customer: tenantId, department: "platform", app: "doc-summarizer" }),
  ];
  return TENANT_PROFILE_RANKS.filter((rank) => rank < population).map((rank, index) => {
    const { tenantId } = tenantAt(rank, population);
    return {
      tenantId,
      name: `tenant-${tenantId}`,
      copyFrom: sources[index % sources.length] as string,
      tags: (tagsOf[index % tagsOf.length] as (id: string) => Record<string, string>)(tenantId),
    };
  });
}
