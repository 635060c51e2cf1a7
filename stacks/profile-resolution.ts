/**
 * What a function that prices needs to resolve application inference profiles itself: read
 * access to the account's application profiles in this Region (their model ARNs and their tags),
 * and the settings that turn the resolver on (functions/src/lib/adapters.ts `pricingFromEnv`).
 */
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Function as SstFunction } from "sst/constructs";
import { ENV } from "../functions/src/lib/contracts";
import type { Config } from "./config";

/** The two read actions on application inference profiles, nothing else of Bedrock's control plane. */
export const PROFILE_READ_ACTIONS = ["bedrock:GetInferenceProfile", "bedrock:ListTagsForResource"] as const;

/**
 * Lets `fn` resolve the application inference profiles of this account and Region (unless the
 * configuration turns resolution off: the static map then stands alone, and no grant is made).
 * The resource is the application-profile ARNs only: system-defined profiles and foundation
 * models name their model in the ARN and are never fetched, and another account's profiles are
 * not this deployment's to read.
 */
export function grantProfileResolution(fn: SstFunction, settings: Pick<Config, "resolveProfiles" | "profileCacheSeconds">): void {
  if (!settings.resolveProfiles) return;
  fn.addEnvironment(ENV.profileResolution, "bedrock");
  fn.addEnvironment(ENV.profileCacheSeconds, String(settings.profileCacheSeconds));
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: "ApplicationProfiles",
      actions: [...PROFILE_READ_ACTIONS],
      resources: [stack.formatArn({ service: "bedrock", resource: "application-inference-profile", resourceName: "*" })],
    }),
  );
}
