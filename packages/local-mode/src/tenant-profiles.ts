/**
 * The per-tenant application inference profiles of local mode's generated traffic, created on the
 * Bedrock stand-in through the control-plane API (CreateInferenceProfile with tags), as a team
 * creates them on AWS. Profiles already there (a second `start` on the same data dir) are reused.
 */
import { BedrockClient } from "@aws-sdk/client-bedrock";
import { createApplicationProfile } from "@bedrock-spend/adapters";
import type { BedrockControlPlaneServer } from "@bedrock-spend/emulators";

/** A profile to have: its name, what it copies, its tags, and the tenant it is for. */
export interface TenantProfileToCreate {
  tenantId: string;
  name: string;
  copyFrom: string;
  tags: Readonly<Record<string, string>>;
}

/** Creates the profiles the stand-in does not have yet (by name); returns tenant id to profile ARN. */
export async function ensureTenantProfiles(bedrock: BedrockControlPlaneServer, specs: readonly TenantProfileToCreate[]): Promise<Record<string, string>> {
  const existing = new Map(bedrock.profiles().map((profile) => [profile.name, profile.arn]));
  const client = new BedrockClient({
    region: bedrock.region,
    endpoint: bedrock.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const arns: Record<string, string> = {};
    for (const spec of specs) {
      arns[spec.tenantId] =
        existing.get(spec.name) ??
        (await createApplicationProfile(client, {
          name: spec.name,
          copyFrom: spec.copyFrom,
          tags: { ...spec.tags },
          description: `Generated tenant ${spec.tenantId}`,
        }));
    }
    return arns;
  } finally {
    client.destroy();
  }
}
