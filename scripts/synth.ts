/**
 * `pnpm synth --out DIR [--stage STAGE] [--region REGION] [--account ACCOUNT]`: synthesizes the
 * SST app offline (functions bundled for real) and writes one CloudFormation template per stack,
 * `DIR/<Stack>.template.json`. Configuration comes from the BEDROCK_SPEND_* variables, as for
 * `sst deploy`. Without an account (flag or CDK_DEFAULT_ACCOUNT) the templates use the
 * `AWS::AccountId` pseudo parameter. Exits 2 on a usage error, 1 when synthesis fails.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const USAGE = "usage: pnpm synth --out DIR [--stage STAGE] [--region REGION] [--account ACCOUNT]";

async function main(): Promise<number> {
  let values: { out?: string; stage?: string; region?: string; account?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: "string" },
        stage: { type: "string" },
        region: { type: "string" },
        account: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.out) {
    process.stderr.write(`--out is required\n${USAGE}\n`);
    return 2;
  }
  const account = values.account ?? process.env.CDK_DEFAULT_ACCOUNT;
  if (account !== undefined && !/^\d{12}$/.test(account)) {
    process.stderr.write(`--account: expected a 12-digit AWS account id, got "${account}"\n`);
    return 2;
  }

  // SST skips its AWS bootstrap lookup (SSM, CloudFormation) only in test mode: set it before the
  // app exists, i.e. before the stacks are even loaded.
  process.env.NODE_ENV = "test";
  const { Aws } = await import("aws-cdk-lib");
  const { loadConfig } = await import("../stacks/config");
  const { synthesizeApp } = await import("../stacks/synth");

  const out = resolve(values.out);
  const synthesized = await synthesizeApp({
    config: loadConfig(process.env),
    stage: values.stage ?? process.env.SST_STAGE ?? "dev",
    region: values.region ?? process.env.AWS_REGION ?? "us-east-1",
    account: account ?? Aws.ACCOUNT_ID,
  });
  mkdirSync(out, { recursive: true });
  for (const { name, stack, template } of synthesized.stacks) {
    const json = template.toJSON() as { Resources?: Record<string, unknown> };
    const file = resolve(out, `${name}.template.json`);
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`wrote ${file} (${stack.stackName}, ${Object.keys(json.Resources ?? {}).length} resources)\n`);
  }
  process.stdout.write(`${synthesized.stacks.length} templates; function bundles are under ${resolve(".sst/artifacts")}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`synth failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
