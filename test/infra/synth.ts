/**
 * Offline synthesis of the SST app for the infrastructure tests (the shared logic is
 * `stacks/synth.ts`, which `pnpm synth` uses too). Each call builds the whole app with the
 * configuration defaults plus `overrides`, in account 123456789012, us-east-1.
 */
import { type Config, loadConfig } from "../../stacks/config";
import { type SynthesizedApp, synthesizeApp } from "../../stacks/synth";

export type { SynthesizedApp, SynthesizedStack } from "../../stacks/synth";

/** The test account and Region every synthesized template uses. */
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** Builds the app offline with `overrides` applied to the default configuration (environment variables are ignored). */
export async function synthesize(overrides: Partial<Config> = {}, stage = "test"): Promise<SynthesizedApp> {
  return synthesizeApp({ config: loadConfig({}, overrides), stage, region: REGION, account: ACCOUNT });
}
