/**
 * `bedrock-spend redrive --lake-errors`: the lake's raw failures (records the transform could not
 * turn into lake rows, kept with their content) sent through the transform again, into the lake.
 * Locally from `<data-dir>/lake-errors/`, on the local stack's transform and lake writer; with
 * `--stage NAME`, by the deployed stage's lake-redrive function (`<app>-<stage>-lake-redrive`,
 * stacks/Lake.ts), which reads the raw failure bucket and Firehose's processing-failed output and
 * puts them on the redrive delivery stream. Neither touches the aggregates: the aggregate path
 * counted (or quarantined) these records when they first came.
 */
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import type { LakeRedriveResult } from "@bedrock-spend/pipeline";
import { parseCommandArgs, priceFileOf } from "../args";
import { clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { APP_NAME, awsCallFailure, type DeploymentTarget, lambdaFailureMessage, STAGE_OPTIONS, stageOf } from "../deployment";
import { CommandFailure, UsageError } from "../errors";
import { dataDirOf, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf } from "../local";
import { LocalStack, lockOrShare } from "../local-mode";

export const REDRIVE_HELP = `Usage: bedrock-spend redrive --lake-errors [--data-dir DIR] [--prices FILE] [--profiles FILE] [--aliases FILE] [--json]
       bedrock-spend redrive --lake-errors --stage NAME [--region R] [--json]

Sends the lake's raw failures through the transform again, into the lake: the records the
transform could not turn into lake rows (a payload it could not read, a row that did not fit the
lake's columns, a response over Firehose's size limit) and, on AWS, those Firehose kept because
the transform never answered. Run it once what made them fail is fixed. A record that fails again
is kept again; the aggregates are not touched (they counted these invocations when they came).

Locally the failures are under <data-dir>/lake-errors/ and the redrive runs the local stack's
transform (stop a running "bedrock-spend start" on the data dir first). With --stage, the stage's
lake-redrive function (${APP_NAME}-NAME-lake-redrive) does it in the account.

Options:
  --lake-errors     the lake's raw failures (required: the aggregate path's quarantine is
                    redriven by the stage's redrive function)
  --stage NAME      redrive the deployed stage NAME instead (needs lambda:InvokeFunction on it)
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
  --prices FILE     price file laid over the shipped catalog (local only)
  --prices-only FILE  price file used as the whole catalog (local only)
  --profiles FILE   application-inference-profile map (local only)
  --aliases FILE    metadata alias map (local only)
${LOCAL_OPTIONS_HELP}

With --json: {"batches","redriven","kept":[{"source","batch","reason"}],"reasons":{"<reason>":N}}.
Exit status: 0, 1 when some batches were kept (their reasons are printed; run it again), 2 for
usage errors.`;

/** The stage's lake-redrive function. */
export function lakeRedriveFunctionName(stage: string): string {
  return `${APP_NAME}-${stage}-lake-redrive`;
}

/** Runs the stage's lake-redrive function and returns its result. */
export async function redriveDeployment(target: DeploymentTarget, lambda: LambdaClient): Promise<LakeRedriveResult> {
  const functionName = lakeRedriveFunctionName(target.stage);
  let response: InvokeCommandOutput;
  try {
    response = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: new TextEncoder().encode("{}") }));
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException")
      throw new CommandFailure(`${functionName}: stage ${target.stage} has no lake-redrive function (deploy it: sst deploy --stage ${target.stage})`);
    throw awsCallFailure("lambda:InvokeFunction", `the function ${functionName}`, error);
  }
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : "";
  if (response.FunctionError) {
    const message = lambdaFailureMessage(text);
    throw new CommandFailure(
      `${functionName}: the redrive failed (${response.FunctionError}): ${message}. Batches it finished are gone; run it again for the rest`,
    );
  }
  return JSON.parse(text) as LakeRedriveResult;
}

/** The result as text: what was sent, by reason, and each batch kept with why. */
export function formatLakeRedrive(result: LakeRedriveResult, where: string): string {
  const reasons = Object.entries(result.reasons)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([reason, count]) => `${reason} ${grouped(count)}`)
    .join(", ");
  const lines = [
    result.batches === 0
      ? `no raw failures in ${where}`
      : `redrove ${grouped(result.redriven)} records from ${grouped(result.batches - result.kept.length)} of ${grouped(result.batches)} batches in ${where}${reasons ? ` (they had failed: ${reasons})` : ""}`,
    ...result.kept.map((kept) => `kept ${kept.source} ${kept.batch}: ${kept.reason}`),
  ];
  return `${lines.join("\n")}\n`;
}

export async function redriveCommand(argv: string[], lambda?: LambdaClient): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { "lake-errors": { type: "boolean" }, ...STAGE_OPTIONS, profiles: { type: "string" }, aliases: { type: "string" } },
    REDRIVE_HELP,
  );
  if (values.help) {
    process.stdout.write(`${REDRIVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`redrive: unexpected argument "${positionals[0]}"`, { help: REDRIVE_HELP });
  if (!values["lake-errors"])
    throw new UsageError(
      "redrive: give --lake-errors (the lake's raw failures); the aggregate path's dead-letter queue is redriven by the stage's redrive function",
      {
        help: REDRIVE_HELP,
      },
    );
  const finish = (result: LakeRedriveResult, where: string) => {
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatLakeRedrive(result, where));
    return result.kept.length > 0 ? 1 : 0;
  };

  if (values.stage !== undefined)
    for (const option of ["prices", "prices-only", "profiles", "aliases"] as const)
      if (values[option] !== undefined)
        throw new UsageError(`redrive: --${option} is not for --stage: the stage's function redrives with the stage's own configuration`, {
          help: REDRIVE_HELP,
        });
  const target = stageOf(values, REDRIVE_HELP);
  if (target) {
    const client = lambda ?? new LambdaClient(target.region ? { region: target.region } : {});
    return finish(await redriveDeployment(target, client), `stage ${target.stage}`);
  }

  const dataDir = dataDirOf(values["data-dir"]);
  const pricer = await loadPricer({ ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases });
  const pricing = pricingOf(values);
  return localCommand(async () => {
    const found = await lockOrShare(dataDir, "redrive", { timeoutMs: 0, extra: { pricing } });
    if (found.kind === "shared")
      throw new CommandFailure(
        `bedrock-spend start (pid ${found.holder.pid}) runs on ${dataDir}: stop it, then redrive (the redrive runs the transform and the lake writer itself)`,
      );
    const stack = await LocalStack.start({ dataDir, pricer, lock: found.lock, role: "redrive", pricing, clock: clockFromEnv(), handleSignals: true });
    try {
      return finish(await stack.redriveLakeErrors(), stack.layout.lakeErrors);
    } finally {
      await stack.stop();
    }
  });
}
