/**
 * Least privilege over every stack's template: no action wildcard in any Allow statement, no
 * `"*"` resource except where AWS offers no resource to name (the allow-list below, each entry
 * with its reason), and every other resource an ARN (or a reference to one) that names a resource.
 *
 * Synthesized once with every option on (JWT API, alert e-mail, default budget, Bedrock logging
 * into our own log group): the other configurations only remove statements from this set (the
 * existing-log-group variant changes a log group name inside an ARN).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { flatten, list, type Statement } from "./helpers";
import { type SynthesizedApp, synthesize } from "./synth";

/** Actions that may (must) have `Resource: "*"`, and why. */
const STAR_RESOURCE_ALLOWED: Record<string, string> = {
  "xray:PutTraceSegments": "X-Ray has no resource-level permissions; every function has active tracing (sst.config.ts)",
  "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions; every function has active tracing (sst.config.ts)",
  "bedrock:GetModelInvocationLoggingConfiguration":
    "an account-and-Region setting with no resource type in IAM (Ingest's custom resource reads it before changing it; the replaced AwsCustomResource only reads it)",
  "bedrock:PutModelInvocationLoggingConfiguration": "an account-and-Region setting with no resource type in IAM (Ingest's custom resource)",
  "bedrock:DeleteModelInvocationLoggingConfiguration": "an account-and-Region setting with no resource type in IAM (Ingest's custom resource)",
  "dynamodb:ListStreams": "no resource type in IAM; part of the DynamoDB-stream event source mapping's permissions (budget-alert)",
  "logs:CreateLogDelivery":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:GetLogDelivery":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:UpdateLogDelivery":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:DeleteLogDelivery":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:ListLogDeliveries":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:PutResourcePolicy":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:DescribeResourcePolicies":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "logs:DescribeLogGroups":
    "the reprice state machine's CloudWatch Logs delivery (vended logs): no resource type in IAM (Step Functions developer guide, cw-logs)",
  "xray:GetSamplingRules": "X-Ray has no resource-level permissions; the reprice state machine is traced",
  "xray:GetSamplingTargets": "X-Ray has no resource-level permissions; the reprice state machine is traced",
};

/**
 * Resource types whose every resource of this account and Region a statement may name, the
 * actions it may do so for, and why: the resources are created outside this app, at any time.
 */
const TYPE_WILDCARD_ALLOWED: Record<string, { actions: readonly string[]; reason: string }> = {
  "bedrock:application-inference-profile/*": {
    actions: ["bedrock:GetInferenceProfile", "bedrock:ListTagsForResource"],
    reason:
      "the functions that price resolve whatever application inference profile a logged call names (its model and its tags), and teams create profiles per tenant at any time; read-only, this account and Region, application profiles only",
  },
};

/** Why key policies are not held to the rules above. */
const KEY_POLICY_REASON =
  'In a key policy "Resource": "*" means the key itself, and the account-root statement with kms:* is the default that delegates the key to IAM policies; both are how AWS defines key policies.';

interface Found {
  where: string;
  statement: Statement;
}

function collect(synthesized: SynthesizedApp): { identity: Found[]; resourcePolicies: Found[]; keyPolicies: Found[]; trust: Found[] } {
  const identity: Found[] = [];
  const resourcePolicies: Found[] = [];
  const keyPolicies: Found[] = [];
  const trust: Found[] = [];
  const add = (into: Found[], where: string, document: unknown) => {
    for (const statement of list((document as { Statement?: unknown })?.Statement)) into.push({ where, statement: statement as Statement });
  };
  for (const { name, template } of synthesized.stacks) {
    for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)) {
      const where = `${name}/${id} (${resource.Type})`;
      const properties = resource.Properties ?? {};
      switch (resource.Type) {
        case "AWS::IAM::Role":
          add(trust, where, properties.AssumeRolePolicyDocument);
          for (const policy of list(properties.Policies)) add(identity, where, (policy as { PolicyDocument: unknown }).PolicyDocument);
          break;
        case "AWS::IAM::Policy":
        case "AWS::IAM::ManagedPolicy":
          add(identity, where, properties.PolicyDocument);
          break;
        case "AWS::SNS::TopicPolicy":
        case "AWS::SQS::QueuePolicy":
        case "AWS::S3::BucketPolicy":
          add(resourcePolicies, where, properties.PolicyDocument);
          break;
        case "AWS::Events::EventBusPolicy":
          add(resourcePolicies, where, properties.Statement ? { Statement: properties.Statement } : undefined);
          break;
        case "AWS::KMS::Key":
          add(keyPolicies, where, properties.KeyPolicy);
          break;
      }
    }
  }
  return { identity, resourcePolicies, keyPolicies, trust };
}

/** Whether a resource (in Fn::Sub notation) names a resource: a reference to one (with a path or qualifier), or an ARN whose resource part is not just a wildcard. */
function isScoped(resource: string): boolean {
  const pseudo: Record<string, string> = { Partition: "aws", Region: "region", AccountId: "account", URLSuffix: "amazonaws.com" };
  const arn = resource.replace(/\$\{AWS::(\w+)\}/g, (_, name: string) => pseudo[name] ?? `\${AWS::${name}}`);
  if (/^\$\{[^}]+\}/.test(arn)) return true;
  const match = /^arn:[^:]+:([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn);
  if (!match) return false;
  const [, service, region, account, rest] = match as unknown as [string, string, string, string, string];
  if (service.includes("*") || region.includes("*") || account.includes("*")) return false;
  return !rest.startsWith("*") && !/^[a-z-]+[/:]\*$/.test(rest);
}

let found: ReturnType<typeof collect>;
beforeAll(async () => {
  found = collect(
    await synthesize({
      jwtIssuer: "https://login.example.com/",
      jwtAudience: ["spend-api"],
      alertEmail: "finance@example.com",
      defaultBudgetUsd: "100",
      curBucket: "acme-cur-exports",
      curPrefix: "cur/bedrock-spend/data",
      curKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    }),
  );
}, 300_000);

describe("IAM least privilege, over every stack", () => {
  it("finds the policies of every stack", () => {
    const stacks = new Set(found.identity.map(({ where }) => where.split("/")[0]));
    for (const stack of ["Ingest", "Processing", "Lake", "Alerts", "Api", "Reconcile"]) expect(stacks, stack).toContain(stack);
    expect(found.identity.length).toBeGreaterThan(20);
  });

  it("has no wildcard in any allowed action, and no NotAction/NotResource", () => {
    const offending = [...found.identity, ...found.resourcePolicies]
      .filter(({ statement }) => statement.Effect === "Allow")
      .filter(({ statement }) => list(statement.Action).some((action) => String(action).includes("*")) || statement.NotAction || statement.NotResource)
      .map(({ where, statement }) => `${where}: ${JSON.stringify(statement.Action ?? statement.NotAction)}`);
    expect(offending).toEqual([]);
  });

  it('uses "*" as a resource only for the allow-listed actions AWS offers no resource for', () => {
    const offending: string[] = [];
    for (const { where, statement } of found.identity) {
      if (statement.Effect !== "Allow" || !list(statement.Resource).includes("*")) continue;
      const notAllowed = list(statement.Action).filter((action) => !(String(action) in STAR_RESOURCE_ALLOWED));
      if (notAllowed.length > 0) offending.push(`${where}: ${JSON.stringify(notAllowed)} on "*"`);
      // "*" is alone in its statement, so that no allow-listed action lends it to another resource.
      if (list(statement.Resource).length > 1) offending.push(`${where}: "*" next to other resources`);
    }
    expect(offending).toEqual([]);
  });

  it("keeps the allow-list honest: every entry is used and has a reason", () => {
    const used = new Set(
      found.identity.filter(({ statement }) => list(statement.Resource).includes("*")).flatMap(({ statement }) => list(statement.Action).map(String)),
    );
    for (const [action, reason] of Object.entries(STAR_RESOURCE_ALLOWED)) {
      expect(used, action).toContain(action);
      expect(reason.length).toBeGreaterThan(20);
    }
  });

  it("tells a scoped resource from a wildcard one", () => {
    for (const scoped of [
      `\${Table.Arn}`,
      `\${Bucket.Arn}/usage/*`,
      `\${Fn.Arn}:*`,
      `arn:\${AWS::Partition}:logs:us-east-1:123456789012:log-group:/x:log-stream:y`,
    ]) {
      expect(isScoped(scoped), scoped).toBe(true);
    }
    for (const wildcard of [
      "*",
      "arn:aws:s3:::*",
      "arn:aws:logs:us-east-1:123456789012:*",
      "arn:aws:logs:*:123456789012:log-group:x",
      "arn:aws:lambda:us-east-1:123456789012:function:*",
    ]) {
      expect(isScoped(wildcard), wildcard).toBe(false);
    }
  });

  it("scopes every other resource to an ARN that names a resource", () => {
    const offending: string[] = [];
    for (const { where, statement } of [...found.identity, ...found.resourcePolicies]) {
      if (statement.Effect !== "Allow") continue;
      for (const resource of list(statement.Resource)) {
        if (resource === "*") continue; // checked above
        if (JSON.stringify(resource) === JSON.stringify({ Ref: "AWS::NoValue" })) continue; // CDK's placeholder for absent table indexes
        const arn = flatten(resource);
        if (isScoped(arn)) continue;
        const type = /^arn:(?:\$\{AWS::Partition\}|aws[a-z-]*):([^:]+):[a-z0-9-]+:\d{12}:([a-z-]+\/\*)$/.exec(arn);
        const allowed = type ? TYPE_WILDCARD_ALLOWED[`${type[1]}:${type[2]}`] : undefined;
        if (allowed && list(statement.Action).every((action) => allowed.actions.includes(String(action)))) continue;
        offending.push(`${where}: ${arn}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("allows no one at all (Principal *) in resource policies; denies (TLS only) may", () => {
    const offending = found.resourcePolicies
      .filter(({ statement }) => statement.Effect === "Allow")
      .filter(({ statement }) => JSON.stringify(statement.Principal) === '"*"' || JSON.stringify(statement.Principal) === '{"AWS":"*"}')
      .map(({ where }) => where);
    expect(offending).toEqual([]);
  });

  it("conditions every role a service other than Lambda assumes (confused deputy)", () => {
    const offending = found.trust
      .filter(({ statement }) => statement.Effect === "Allow")
      .filter(({ statement }) => {
        const services = list((statement.Principal as { Service?: unknown } | undefined)?.Service).map(String);
        return services.some((service) => service !== "lambda.amazonaws.com") && !statement.Condition;
      })
      .map(({ where, statement }) => `${where}: ${JSON.stringify(statement.Principal)}`);
    expect(offending).toEqual([]);
  });

  it(`excepts key policies from the "*" rules (${KEY_POLICY_REASON.slice(0, 40)}...), but keeps kms:* to the account root`, () => {
    expect(found.keyPolicies.length).toBeGreaterThan(0);
    for (const { where, statement } of found.keyPolicies) {
      if (!list(statement.Action).some((action) => String(action).includes("*"))) continue;
      const root = flatten((statement.Principal as { AWS?: unknown } | undefined)?.AWS ?? "");
      expect(root, `${where}: a wildcard action for ${JSON.stringify(statement.Principal)}`).toMatch(/^arn:\$\{AWS::Partition\}:iam::\d{12}:root$/);
      expect(statement.Action, where).toBe("kms:*");
    }
  });
});

describe("IAM: application inference profiles", () => {
  const PROFILE_ACTIONS = ["bedrock:GetInferenceProfile", "bedrock:ListTagsForResource"];
  const profileStatements = () => found.identity.filter(({ statement }) => list(statement.Action).some((action) => PROFILE_ACTIONS.includes(String(action))));

  it("lets exactly the functions that price read application profiles and their tags, in this account and Region, and nothing else of Bedrock", () => {
    const statements = profileStatements();
    // A role's policy is its default policy or, once that is full, an overflow managed policy.
    const roles = statements.map(({ where }) => where.split(" ")[0]?.replace(/ServiceRole\w*$/, ""));
    expect(roles.sort()).toEqual(["Lake/Transform", "Processing/Aggregate", "Processing/Redrive", "Reprice/RepriceStep"]);
    for (const { statement } of statements) {
      expect(statement.Effect).toBe("Allow");
      expect(list(statement.Action).sort()).toEqual(PROFILE_ACTIONS);
      expect(list(statement.Resource).map(flatten)).toEqual([`arn:\${AWS::Partition}:bedrock:us-east-1:123456789012:application-inference-profile/*`]);
    }
  });

  it("grants nothing of the kind when resolution is turned off (the profile map stands alone)", async () => {
    const off = collect(await synthesize({ resolveProfiles: false }));
    expect(off.identity.filter(({ statement }) => list(statement.Action).some((action) => PROFILE_ACTIONS.includes(String(action))))).toEqual([]);
  }, 300_000);
});
