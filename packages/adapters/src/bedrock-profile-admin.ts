/**
 * Creating application inference profiles (`bedrock:CreateInferenceProfile`, with tags) through the
 * SDK's Bedrock client: what local mode and the tests do to set up profiles as a team does on AWS.
 * Apart from `bedrock-profile-source.ts`, which the functions bundle without the SDK client.
 */
import { type BedrockClient, CreateInferenceProfileCommand } from "@aws-sdk/client-bedrock";
import { BedrockSpendError } from "@bedrock-spend/core";

/** Options of `createApplicationProfile`. */
export interface CreateApplicationProfileInput {
  name: string;
  /** A foundation-model ARN (in-Region copy) or a system-defined inference-profile ARN (`us.`, `global.`...). */
  copyFrom: string;
  tags?: Readonly<Record<string, string>>;
  description?: string;
}

/** Creates an application inference profile (`bedrock:CreateInferenceProfile`) and returns its ARN. */
export async function createApplicationProfile(client: BedrockClient, input: CreateApplicationProfileInput): Promise<string> {
  const output = await client.send(
    new CreateInferenceProfileCommand({
      inferenceProfileName: input.name,
      modelSource: { copyFrom: input.copyFrom },
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.tags === undefined ? {} : { tags: Object.entries(input.tags).map(([key, value]) => ({ key, value })) }),
    }),
  );
  if (!output.inferenceProfileArn) throw new BedrockSpendError(`bedrock:CreateInferenceProfile for ${input.name} answered without an inferenceProfileArn`);
  return output.inferenceProfileArn;
}
