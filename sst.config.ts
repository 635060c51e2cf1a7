import type { SSTConfig } from "sst";

/**
 * The SST v2 app. Stacks (one file per concern in `stacks/`) are registered here as the pipeline
 * and infrastructure land; deploy with `sst deploy --stage prod` on a machine with AWS credentials.
 */
export default {
  config() {
    return { name: "bedrock-spend", region: "us-east-1" };
  },
  stacks(app) {
    // Lambda runtime for every function: nodejs20.x is deprecated by CloudFormation's validator.
    app.setDefaultFunctionProps({ runtime: "nodejs22.x" });
  },
} satisfies SSTConfig;
