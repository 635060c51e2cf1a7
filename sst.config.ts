import type { SSTConfig } from "sst";
import { Alerts } from "./stacks/Alerts";
import { Analytics } from "./stacks/Analytics";
import { Api } from "./stacks/Api";
import { config } from "./stacks/config";
import { Ingest } from "./stacks/Ingest";
import { Lake } from "./stacks/Lake";
import { Monitoring } from "./stacks/Monitoring";
import { Processing } from "./stacks/Processing";

/**
 * The SST v2 app: one stack per concern. Deploy with `sst deploy --stage prod` on a machine with
 * AWS credentials; configuration comes from BEDROCK_SPEND_* variables (stacks/config.ts).
 */
export default {
  config() {
    return { name: "bedrock-spend", region: process.env.AWS_REGION ?? "us-east-1" };
  },
  stacks(app) {
    config();
    // nodejs20.x is deprecated by CloudFormation's validator; 22 is what these functions are tested on.
    // Minified, without esbuild's keepNames (SST's default turns it on): the functions bundle the AWS
    // SDK, and names kept cost the largest bundle (redrive) 27 KB and ~30 ms of cold start. SST uploads
    // the source maps; nothing bundled depends on a function's or class's name (errors set `name`
    // explicitly; the SDK reads a constructor name only to word one internal error). See BENCHMARKS.md, `bundles`.
    app.setDefaultFunctionProps({
      runtime: "nodejs22.x",
      architecture: "arm_64",
      tracing: "active",
      nodejs: { format: "esm", minify: true, esbuild: { keepNames: false } },
    });
    app.stack(Ingest).stack(Processing).stack(Lake).stack(Analytics).stack(Alerts).stack(Api).stack(Monitoring);
  },
} satisfies SSTConfig;
