/**
 * Offline synthesis of the SST app, as the tests and `pnpm synth` need it: `sst build` needs AWS
 * (and exits 0 having done nothing without it), so the app is built in test mode with the same
 * stacks and `await app.finish()` bundles the functions for real.
 */
import { Template } from "aws-cdk-lib/assertions";
import { App, getStack } from "sst/constructs";
import type { FunctionalStack } from "sst/constructs/FunctionalStack.js";
import { initProject } from "sst/project.js";
import sstConfig from "../../sst.config";
import { type Config, loadConfig, setConfig } from "../../stacks/config";

/** The synthesized app: a template per stack. */
export interface SynthesizedApp {
  app: App;
  template(stack: FunctionalStack<unknown>): Template;
}

/** Builds the app offline with `overrides` applied to the configuration. */
export async function synthesize(overrides: Partial<Config> = {}, stage = "test"): Promise<SynthesizedApp> {
  setConfig(loadConfig({}, overrides));
  await initProject({ stage });
  const app = new App({ mode: "deploy", name: "bedrock-spend", stage, region: "us-east-1", account: "123456789012" });
  const stacks = sstConfig.stacks as (app: App) => void;
  stacks(app);
  await app.finish();
  return { app, template: (stack) => Template.fromStack(getStack(stack)) };
}
