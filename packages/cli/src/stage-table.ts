/**
 * A deployed stage's aggregates table, for the commands that read it directly (`budgets list`, `ranks`,
 * `alerts`): its name from the Processing stack's `AggregatesTable` output, read with the SDK's
 * credentials. The errors say what the caller lacks.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DeploymentTarget, stageStackName, stageStackOutputs } from "./deployment";
import { CommandFailure } from "./errors";

/** Errors of DynamoDB and STS that mean the credentials, not the request, are wrong. */
const CREDENTIAL_ERRORS = new Set(["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException", "CredentialsProviderError"]);

/**
 * Reads the stage's table with `read`; `action` names the DynamoDB action it needs (for the message
 * of a refusal).
 * @throws UsageError when the stage is not deployed; CommandFailure when the caller lacks the action or credentials
 */
export async function readStageTable<T>(target: DeploymentTarget, action: string, read: (client: DynamoDBClient, tableName: string) => Promise<T>): Promise<T> {
  const config = target.region ? { region: target.region } : {};
  const outputs = await stageStackOutputs(target, "Processing", new CloudFormationClient(config));
  const tableName = outputs.get("AggregatesTable");
  if (!tableName) throw new CommandFailure(`--stage ${target.stage}: ${stageStackName(target.stage, "Processing")} has no AggregatesTable output`);
  const client = new DynamoDBClient(config);
  try {
    return await read(client, tableName);
  } catch (error) {
    const name = (error as Error).name;
    if (name === "AccessDeniedException")
      throw new CommandFailure(`stage ${target.stage}: the caller needs ${action} on the table ${tableName}: ${(error as Error).message}`, { cause: error });
    if (CREDENTIAL_ERRORS.has(name))
      throw new CommandFailure(
        `stage ${target.stage}: the AWS credentials were refused (${name}: ${(error as Error).message}); refresh the session (aws sso login) or set AWS_PROFILE`,
        {
          cause: error,
        },
      );
    throw error;
  } finally {
    client.destroy();
  }
}
