/**
 * `bedrock-spend reprice --stage NAME ...`: the same reprice on a deployed stage. The CLI starts
 * the stage's reprice job (Step Functions around the reprice Lambda, stacks/Reprice.ts) with the
 * caller's ARN as the actor, and follows it to its end unless `--no-wait`; `--history` and
 * `--resume` read the audit records from the stage's aggregates table (its name from the
 * Processing stack's outputs).
 */
import { randomUUID } from "node:crypto";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { CatalogSource } from "@bedrock-spend/core";
import type { RepriceJobInput, RepriceStepResult } from "@bedrock-spend/pipeline";
import { listRepriceAudits, type RepriceAudit } from "@bedrock-spend/store";
import {
  awsCallFailure,
  type DeploymentClients,
  type DeploymentTarget,
  deploymentClients,
  repriceStateMachineArn,
  stageStackName,
  stageStackOutputs,
  startJob,
  waitForJob,
} from "../deployment";
import { CommandFailure, UsageError } from "../errors";

/** Clients of a stage's reprice: the job's, plus CloudFormation and DynamoDB for the audit trail. */
export interface RepriceDeploymentClients extends DeploymentClients {
  cloudFormation: CloudFormationClient;
  dynamoDb: DynamoDBClient;
}

/** What the command asks of the stage. */
export type RepriceDeploymentRequest =
  | { kind: "history" }
  | { kind: "resume"; wait: boolean }
  | { kind: "reprice"; from: string; to: string; source: CatalogSource; dryRun: boolean; all: boolean; wait: boolean };

/** What `reprice --stage ... --json` prints for a job. */
export interface RepriceDeploymentOutput {
  stage: string;
  executionArn: string;
  /** The job's last step (null with `--no-wait`). */
  step: RepriceStepResult | null;
}

/** The clients of a stage with the SDK's credential chain. */
export function repriceDeploymentClients(target: DeploymentTarget): RepriceDeploymentClients {
  const config = target.region ? { region: target.region } : {};
  return { ...deploymentClients(target), cloudFormation: new CloudFormationClient(config), dynamoDb: new DynamoDBClient(config) };
}

/** The stage's aggregates table: the `AggregatesTable` output of its Processing stack. */
export async function stageTableName(target: DeploymentTarget, clients: RepriceDeploymentClients): Promise<string> {
  const table = (await stageStackOutputs(target, "Processing", clients.cloudFormation)).get("AggregatesTable");
  if (!table)
    throw new CommandFailure(`${stageStackName(target.stage, "Processing")} has no AggregatesTable output: deploy this version of bedrock-spend to the stage`);
  return table;
}

/** The audit records of the stage's table, newest first. */
async function stageAudits(target: DeploymentTarget, clients: RepriceDeploymentClients): Promise<RepriceAudit[]> {
  const table = await stageTableName(target, clients);
  try {
    return await listRepriceAudits(clients.dynamoDb, table);
  } catch (error) {
    throw awsCallFailure("dynamodb:Query", `the table ${table}`, error);
  }
}

/** Runs a reprice request against a stage; returns what to print. */
export async function repriceDeployment(
  target: DeploymentTarget,
  request: RepriceDeploymentRequest,
  clients: RepriceDeploymentClients,
  options: { now: () => number; onProgress?: (message: string) => void; pollMs?: number; sleep?: (ms: number) => Promise<void> },
): Promise<RepriceAudit[] | RepriceDeploymentOutput> {
  if (request.kind === "history") return stageAudits(target, clients);
  const { arn, caller } = await repriceStateMachineArn(target, clients);
  let input: RepriceJobInput;
  if (request.kind === "resume") {
    const unfinished = (await stageAudits(target, clients)).find((audit) => audit.status !== "applied");
    if (!unfinished) throw new UsageError(`reprice --resume: no unfinished reprice on stage ${target.stage}`);
    input = { resume: unfinished.id, actor: caller };
  } else {
    input = {
      from: request.from,
      to: request.to,
      source: request.source,
      actor: caller,
      ...(request.dryRun ? { dryRun: true } : {}),
      ...(request.all ? { all: true } : {}),
    };
  }
  const stamp = new Date(options.now()).toISOString().replace(/[-:.]/g, "");
  const name = `${request.kind === "reprice" && request.dryRun ? "dry-run" : "reprice"}-${stamp}-${randomUUID().slice(0, 8)}`;
  const executionArn = await startJob(clients, arn, input, name);
  options.onProgress?.(`started ${executionArn} (${caller}); it runs in the account, Ctrl-C does not stop it`);
  if (!request.wait) return { stage: target.stage, executionArn, step: null };
  let last = "";
  const output = (await waitForJob(clients, executionArn, {
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    onPoll: (status) => {
      if (status !== last) options.onProgress?.(`job ${status.toLowerCase()}`);
      last = status;
    },
  })) as { step?: RepriceStepResult } | null;
  return { stage: target.stage, executionArn, step: output?.step ?? null };
}
