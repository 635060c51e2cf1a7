/**
 * The spend API of a deployed stage, as `spend --stage` and `budgets --stage` call it: its IAM
 * Function URL (the Api stack's `SpendApiFunctionUrl` output), each request signed with SigV4
 * (service `lambda`) with the caller's credentials (the SDK's chain: environment, `AWS_PROFILE`,
 * SSO, instance role). The answer is the same handler's as locally, so the commands print the same.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { type Credentials, type SignedResponse, signedFetch } from "@bedrock-spend/adapters";
import { type DeploymentTarget, stageStackName, stageStackOutputs } from "./deployment";
import { CommandFailure } from "./errors";

/** A spend API request: what `handleSpendApi` takes, without the caller's identity. */
export interface SpendApiRequest {
  method: "GET" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | undefined>;
  body: string | null;
}

/** Calls the spend API: the status and the body (JSON text). */
export type SpendApiCaller = (request: SpendApiRequest) => Promise<{ statusCode: number; body: string }>;

/** What a stage's API caller may be given instead of the SDK's defaults (tests). */
export interface StageApiOptions {
  cloudFormation?: CloudFormationClient;
  credentials?: Credentials | (() => Promise<Credentials>);
  fetch?: typeof fetch;
}

/** The Region of a Function URL (`https://<id>.lambda-url.<region>.on.aws/`), if it says. */
export function functionUrlRegion(url: string): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(new URL(url).hostname)?.[1];
}

/**
 * The stage's spend API caller.
 * @throws UsageError when the stage has no Api stack; CommandFailure when it has no Function URL output
 */
export async function stageSpendApi(target: DeploymentTarget, options: StageApiOptions = {}): Promise<SpendApiCaller> {
  const cloudFormation = options.cloudFormation ?? new CloudFormationClient(target.region ? { region: target.region } : {});
  const outputs = await stageStackOutputs(target, "Api", cloudFormation);
  const url = outputs.get("SpendApiFunctionUrl");
  if (!url)
    throw new CommandFailure(
      `--stage ${target.stage}: ${stageStackName(target.stage, "Api")} has no SpendApiFunctionUrl output (deploy this version: sst deploy --stage ${target.stage})`,
    );
  const functionArn = outputs.get("SpendApiFunctionArn") ?? "the spend API function";
  const region = functionUrlRegion(url) ?? target.region ?? (await cloudFormation.config.region());
  const send = signedFetch({
    service: "lambda",
    region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return async (request) => {
    const address = new URL(request.path.replace(/^\//, ""), url.endsWith("/") ? url : `${url}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) address.searchParams.set(key, value);
    let response: SignedResponse;
    try {
      response = await send(address.toString(), {
        method: request.method,
        ...(request.body !== null ? { headers: { "content-type": "application/json" }, body: request.body } : {}),
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "CredentialsProviderError" || /credential/i.test((error as Error).message))
        throw new CommandFailure(
          `no usable AWS credentials for stage ${target.stage}: ${(error as Error).message} (set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
          { cause: error },
        );
      throw new CommandFailure(`${url}: ${(error as Error).message}`, { cause: error });
    }
    // A Function URL refuses a request IAM does not allow before the handler sees it: {"Message":"Forbidden"}.
    if (response.status === 403 && !response.text.includes('"error"'))
      throw new CommandFailure(
        `${address.origin}: 403 ${response.text.trim() || "Forbidden"}: the caller needs lambda:InvokeFunctionUrl on ${functionArn}, with credentials that have not expired`,
      );
    return { statusCode: response.status, body: response.text };
  };
}
