/**
 * `reconcile --stage NAME`: the deployed stage's reconciliation, run by its reconcile function
 * (`<app>-<stage>-reconcile`, stacks/Reconcile.ts) with the stage's own CUR table, lake, catalog
 * and usage-type map: the same queries as the daily run, over the range asked for. The function
 * returns the report inline when it fits Lambda's response; a larger one is read where the
 * function kept it (the stage's Athena results bucket).
 */
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { DayKey, ReconcileReport } from "@bedrock-spend/core";
import type { ReconcileResult } from "@bedrock-spend/pipeline";
import { APP_NAME, awsCallFailure, type DeploymentTarget, lambdaFailureMessage } from "../deployment";
import { CommandFailure } from "../errors";

/** The clients `reconcile --stage` uses (injectable for tests). */
export interface ReconcileDeploymentClients {
  lambda: LambdaClient;
  s3: S3Client;
}

/** A stage's reconciliation that did not run: the function's error, or no function. */
export class DeploymentReconcileError extends CommandFailure {
  readonly functionName: string;
  constructor(functionName: string, message: string, options?: { cause?: unknown }) {
    super(`${functionName}: ${message}`, options);
    this.name = "DeploymentReconcileError";
    this.functionName = functionName;
  }
}

/** The clients for a target, with the SDK's credential chain. */
export function reconcileDeploymentClients(target: DeploymentTarget): ReconcileDeploymentClients {
  const config = target.region ? { region: target.region } : {};
  return { lambda: new LambdaClient(config), s3: new S3Client(config) };
}

/** The stage's reconcile function. */
export function reconcileFunctionName(stage: string): string {
  return `${APP_NAME}-${stage}-reconcile`;
}

/** What `reconcile --stage` got: the run's figures and the whole report. */
export interface DeployedReconciliation {
  result: ReconcileResult;
  report: ReconcileReport;
}

/**
 * Runs the stage's reconciliation of `from`..`to` (both absent: the function's default window).
 * @throws DeploymentReconcileError when the stage has no reconcile function or the run fails
 */
export async function reconcileDeployment(
  target: DeploymentTarget,
  range: { from?: DayKey; to?: DayKey },
  clients: ReconcileDeploymentClients,
): Promise<DeployedReconciliation> {
  const functionName = reconcileFunctionName(target.stage);
  let response: InvokeCommandOutput;
  try {
    response = await clients.lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: new TextEncoder().encode(JSON.stringify(range)) }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException")
      throw new DeploymentReconcileError(
        functionName,
        `stage ${target.stage} has no reconcile function: deploy it with BEDROCK_SPEND_CUR_BUCKET naming the account's CUR 2.0 export`,
        { cause: error },
      );
    throw awsCallFailure("lambda:InvokeFunction", `the function ${functionName}`, error);
  }
  const text = response.Payload ? new TextDecoder().decode(response.Payload) : "";
  if (response.FunctionError) {
    const message = lambdaFailureMessage(text);
    throw new DeploymentReconcileError(functionName, `the reconciliation failed (${response.FunctionError}): ${message}`);
  }
  const result = JSON.parse(text) as ReconcileResult;
  if (result.report) return { result, report: result.report };
  return { result, report: await reportAt(result.reportLocation, clients.s3, functionName) };
}

/** The report a run kept at `s3://bucket/key` (`{from, to, rows, unmapped, totals}`). */
async function reportAt(location: string, s3: S3Client, functionName: string): Promise<ReconcileReport> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new DeploymentReconcileError(functionName, `returned no report and no S3 location for it (${JSON.stringify(location)})`);
  const object = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] })).catch((error: unknown) => {
    throw awsCallFailure("s3:GetObject", `the report ${location}`, error);
  });
  const kept = JSON.parse((await object.Body?.transformToString()) ?? "{}") as ReconcileReport & { from?: string; to?: string };
  return { rows: kept.rows, unmapped: kept.unmapped, totals: kept.totals };
}
