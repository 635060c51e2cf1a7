import { Aspects, CfnResource, type IAspect } from "aws-cdk-lib";
import type { CfnFunction } from "aws-cdk-lib/aws-lambda";
import type { SSTConfig } from "sst";
import { Alerts } from "./stacks/Alerts";
import { Analytics } from "./stacks/Analytics";
import { Api } from "./stacks/Api";
import { deployedPricing, gzippedJson, httpBuiltinsAsCommonJs } from "./stacks/bundling";
import { config, deployedPricingOf } from "./stacks/config";
import { Ingest } from "./stacks/Ingest";
import { Lake } from "./stacks/Lake";
import { Monitoring } from "./stacks/Monitoring";
import { Processing } from "./stacks/Processing";
import { Reconcile } from "./stacks/Reconcile";
import { Reprice } from "./stacks/Reprice";

/** The Node.js the functions are tested on: local mode, the tests and CI run Node.js 24 LTS. */
const NODE_RUNTIME = "nodejs24.x";

/**
 * The SST v2 app: one stack per concern. Deploy with `sst deploy --stage prod` on a machine with
 * AWS credentials; configuration comes from BEDROCK_SPEND_* variables (stacks/config.ts).
 */
export default {
  config() {
    return { name: "bedrock-spend", region: process.env.AWS_REGION ?? "us-east-1" };
  },
  stacks(app) {
    const settings = config();
    // Minified, without esbuild's keepNames (SST's default turns it on): the functions bundle the AWS
    // SDK, and names kept cost the largest bundle (redrive) 27 KB and ~30 ms of cold start. SST uploads
    // the source maps; nothing bundled depends on a function's or class's name (errors set `name`
    // explicitly; the SDK reads a constructor name only to word one internal error). See BENCHMARKS.md, `bundles`.
    app.setDefaultFunctionProps({
      runtime: NODE_RUNTIME,
      architecture: "arm_64",
      tracing: "active",
      nodejs: {
        format: "esm",
        minify: true,
        esbuild: { keepNames: false, plugins: [gzippedJson(), deployedPricing(deployedPricingOf(settings)), httpBuiltinsAsCommonJs()] },
      },
    });
    app.stack(Ingest).stack(Processing).stack(Lake).stack(Analytics).stack(Alerts).stack(Api).stack(Reprice);
    // The daily reconciliation with the bill needs the account's CUR 2.0 export (stacks/Reconcile.ts).
    if (config().curBucket) app.stack(Reconcile);
    app.stack(Monitoring);
    Aspects.of(app).add(everyNodeFunctionOn(NODE_RUNTIME));
  },
} satisfies SSTConfig;

/**
 * SST 2.49.8 builds each stack's own custom resource handler on nodejs22.x, and aws-cdk-lib 2.224 the
 * AwsCustomResource provider too, whatever the default function props say. Both are
 * promise-returning handlers, which nodejs24.x runs (it refuses only callback handlers), so every
 * Node.js function of the app runs on the one Node.js major it is tested on.
 */
function everyNodeFunctionOn(runtime: string): IAspect {
  return {
    visit(node) {
      if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== "AWS::Lambda::Function") return;
      const fn = node as CfnFunction;
      if (fn.runtime?.startsWith("nodejs")) fn.runtime = runtime;
    },
  };
}
