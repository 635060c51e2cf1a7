/**
 * A deployed stage, as the CLI drives it: who the caller is (STS), its stacks' outputs
 * (CloudFormation), and the reprice job's state machine (`<app>-<stage>-reprice`,
 * stacks/Reprice.ts), started and followed until it ends. The job itself runs in the account
 * (Step Functions around the reprice Lambda), so it goes on if this machine goes away:
 * `--no-wait` leaves it at that. Also what the stage commands share: their options (`--stage`,
 * `--region`, `--profile`) and what a refused AWS call says the caller lacks (awsCallFailure).
 */
import { type CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeExecutionCommand, type ExecutionStatus, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { BedrockSpendError } from "@bedrock-spend/core";
import { CommandFailure, UsageError } from "./errors";

/** The app name of sst.config.ts: the prefix of every resource name. */
export const APP_NAME = "bedrock-spend";

/** Which deployment: its stage and Region (the SDK's default Region when not given). */
export interface DeploymentTarget {
  stage: string;
  region?: string;
}

/** The clients a deployment command uses (injectable for tests). */
export interface DeploymentClients {
  sfn: SFNClient;
  sts: STSClient;
}

/** A job that did not succeed: its status and Step Functions' error and cause. */
export class DeploymentJobError extends CommandFailure {
  readonly executionArn: string;
  readonly status: ExecutionStatus | string;
  constructor(executionArn: string, status: ExecutionStatus | string, detail: string) {
    super(`the reprice job ${executionArn} ended ${status}${detail ? `: ${detail}` : ""}`);
    this.name = "DeploymentJobError";
    this.executionArn = executionArn;
    this.status = status;
  }
}

/** The CloudFormation stack SST deploys a stage's stack as: `<stage>-bedrock-spend-<stack>` (e.g. `prod-bedrock-spend-Ingest`). */
export function stageStackName(stage: string, stack: string): string {
  return `${stage}-${APP_NAME}-${stack}`;
}

/**
 * The outputs of one of a stage's stacks, by key (an output without a value is left out).
 * @throws UsageError when the stage has no such stack in the account and Region
 */
export async function stageStackOutputs(target: DeploymentTarget, stack: string, cloudFormation: CloudFormationClient): Promise<Map<string, string>> {
  const stackName = stageStackName(target.stage, stack);
  try {
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map<string, string>();
    for (const output of described.Stacks?.[0]?.Outputs ?? []) if (output.OutputKey && output.OutputValue) outputs.set(output.OutputKey, output.OutputValue);
    return outputs;
  } catch (error) {
    // DescribeStacks answers a stack that does not exist with a ValidationError.
    if ((error as Error).name === "ValidationError")
      throw new UsageError(`--stage ${target.stage}: no stack ${stackName} in this account and Region (deploy with sst deploy --stage ${target.stage})`, {
        cause: error,
      });
    throw awsCallFailure("cloudformation:DescribeStacks", `the stack ${stackName}`, error);
  }
}

/** The clients for a target, with the SDK's credential chain. */
export function deploymentClients(target: DeploymentTarget): DeploymentClients {
  const config = target.region ? { region: target.region } : {};
  return { sfn: new SFNClient(config), sts: new STSClient(config) };
}

/** The state machine ARN of a stage's reprice job, in the caller's account, partition and Region. */
export async function repriceStateMachineArn(target: DeploymentTarget, clients: DeploymentClients): Promise<{ arn: string; caller: string }> {
  const identity = await clients.sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
    throw awsCallFailure("sts:GetCallerIdentity", "STS", error);
  });
  const caller = identity.Arn ?? "unknown";
  const partition = caller.split(":")[1] ?? "aws";
  const region = target.region ?? (await clients.sfn.config.region());
  return { arn: `arn:${partition}:states:${region}:${identity.Account}:stateMachine:${APP_NAME}-${target.stage}-reprice`, caller };
}

/**
 * Starts an execution with `input`; returns its ARN.
 * @throws UsageError when the state machine does not exist; CommandFailure when the caller may not start it
 */
export async function startJob(clients: DeploymentClients, stateMachineArn: string, input: unknown, name: string): Promise<string> {
  const started = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })).catch((error: unknown) => {
    if ((error as Error).name === "StateMachineDoesNotExist")
      throw new UsageError(`no state machine ${stateMachineArn} in this account and Region: deploy the stage with sst deploy`, { cause: error });
    throw awsCallFailure("states:StartExecution", `the state machine ${stateMachineArn}`, error);
  });
  if (!started.executionArn) throw new BedrockSpendError(`Step Functions started no execution of ${stateMachineArn}`);
  return started.executionArn;
}

/**
 * Follows an execution until it ends; returns its output (parsed JSON).
 * @throws DeploymentJobError when it fails, times out or is aborted
 */
export async function waitForJob(
  clients: DeploymentClients,
  executionArn: string,
  options: { pollMs?: number; sleep?: (ms: number) => Promise<void>; onPoll?: (status: string) => void } = {},
): Promise<unknown> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn })).catch((error: unknown) => {
      throw awsCallFailure("states:DescribeExecution", `the execution ${executionArn}`, error);
    });
    const status = execution.status ?? "UNKNOWN";
    options.onPoll?.(status);
    if (status === "SUCCEEDED") return execution.output ? JSON.parse(execution.output) : null;
    if (status !== "RUNNING" && status !== "PENDING_REDRIVE")
      throw new DeploymentJobError(executionArn, status, [execution.error, execution.cause].filter(Boolean).join(": "));
    await sleep(options.pollMs ?? 5_000);
  }
}

/** The message of a function's failed invocation: Lambda's error document (`errorType: errorMessage`), or its text when it is not one (a timeout). */
export function lambdaFailureMessage(payload: string): string {
  try {
    const failure = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    return `${failure.errorType ?? "Error"}: ${failure.errorMessage ?? payload}`;
  } catch {
    return payload;
  }
}

/** The options of a command that can act on a deployed stage. */
export const STAGE_OPTIONS = { stage: { type: "string" }, region: { type: "string" }, profile: { type: "string" } } as const;

/**
 * The deployed stage of `--stage NAME [--region R] [--profile P]`, or undefined for the data dir;
 * `--data-dir` with `--stage`, or `--region` or `--profile` without it, is a usage error.
 * `--profile` selects the named profile of the AWS config files for every client of the command.
 */
export function stageOf(
  values: { stage?: string | undefined; region?: string | undefined; profile?: string | undefined; "data-dir"?: string | undefined },
  help: string,
): DeploymentTarget | undefined {
  if (values.stage === undefined) {
    for (const option of ["region", "profile"] as const)
      if (values[option] !== undefined) throw new UsageError(`--${option} is for a deployed stage (--stage)`, { help });
    return undefined;
  }
  if (values["data-dir"] !== undefined) throw new UsageError("--data-dir and --stage are exclusive: a data dir is local, a stage is deployed", { help });
  const stage = values.stage.trim();
  if (stage === "") throw new UsageError("--stage must not be empty", { help });
  const region = values.region?.trim();
  if (region === "") throw new UsageError("--region must not be empty", { help });
  if (values.profile !== undefined) {
    if (values.profile.trim() === "") throw new UsageError("--profile must not be empty", { help });
    // The SDK's credential chain and Region resolution read it when each client is built.
    process.env.AWS_PROFILE = values.profile.trim();
  }
  return { stage, ...(region ? { region } : {}) };
}

/** AWS error names of a session whose credentials have expired. */
const EXPIRED_ERRORS = new Set(["ExpiredToken", "ExpiredTokenException", "RequestExpired"]);
/** AWS error names of a refused call that name no permission (S3's `AccessDenied`). */
const DENIED_ERRORS = new Set(["AccessDenied", "AccessDeniedException"]);
/** AWS and SDK error names of credentials that are missing, unknown or wrong. */
const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "TokenProviderError",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);

/**
 * What the caller lacks, from an AWS error of `action` (an IAM action, e.g. `states:StartExecution`)
 * on `resource` (e.g. `the state machine arn:...`): an expired session, a permission (the one
 * AWS's message names, else `action`), or usable credentials, as a CommandFailure; any other error
 * as it is.
 */
export function awsCallFailure(action: string, resource: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const said = `${error.name}: ${error.message}`;
  if (EXPIRED_ERRORS.has(error.name) || /\b(security token|session)\b.*\bexpired\b/i.test(error.message))
    return new CommandFailure(
      `${action} on ${resource}: the AWS session has expired (${said}); renew it (aws sso login, or new keys for the profile) and run the command again`,
      { cause: error },
    );
  const needed = /is not authorized to perform: ([\w-]+:[\w*]+)/.exec(error.message)?.[1];
  if (needed !== undefined || DENIED_ERRORS.has(error.name))
    return new CommandFailure(`the caller lacks ${needed === undefined || needed === action ? action : `${needed} (for ${action})`} on ${resource} (${said})`, {
      cause: error,
    });
  if (CREDENTIAL_ERRORS.has(error.name))
    return new CommandFailure(
      `${action} on ${resource}: no usable AWS credentials (${said}); give --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login`,
      { cause: error },
    );
  return error;
}
