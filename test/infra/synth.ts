/**
 * Offline synthesis of the SST app for the infrastructure tests (the shared logic is
 * `stacks/synth.ts`, which `pnpm synth` uses too). Each call builds the whole app with the
 * configuration defaults plus `overrides`, in account 123456789012, us-east-1, and holds it to
 * cdk-nag's packs: every configuration any infrastructure test synthesizes is checked, and a new
 * option is checked as soon as a test uses it.
 */
import { type Config, loadConfig } from "../../stacks/config";
import { type SynthesizedApp, synthesizeApp } from "../../stacks/synth";
import { assertNagClean } from "./nag";

export type { SynthesizedApp, SynthesizedStack } from "../../stacks/synth";

/** The test account and Region every synthesized template uses. */
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/**
 * Builds the app offline with `overrides` applied to the default configuration (environment
 * variables are ignored). Throws `NagFindingsError` when cdk-nag's `AwsSolutions` or `Serverless`
 * pack has an unsuppressed finding, or a suppression gives no reason with its source.
 */
export async function synthesize(overrides: Partial<Config> = {}, stage = "test"): Promise<SynthesizedApp> {
  const synthesized = await synthesizeApp({ config: loadConfig({}, overrides), stage, region: REGION, account: ACCOUNT });
  assertNagClean(synthesized, JSON.stringify(overrides));
  return synthesized;
}
