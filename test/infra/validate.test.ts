/**
 * CloudFormation schema validation of every synthesized template with AWS's own validator
 * (`@aws/cloudformation-validate`, the engine cfn-lint's rules were ported to; WASM, offline):
 * zero ERROR or FATAL diagnostics. Warnings are shown only when the test fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUIRED_CUR_COLUMNS } from "../../packages/core/src/bill/reconcile";
import type { Config } from "../../stacks/config";
import { type SynthesizedApp, synthesize } from "./synth";

interface Diagnostic {
  severity: "FATAL" | "ERROR" | "WARN" | "INFO";
  ruleId: string;
  message: string;
}
interface Validator {
  RegoEngine: new () => { validateStandard(file: unknown): { diagnostics: Diagnostic[] }; free(): void };
  TemplateFile: new (path: string) => unknown;
}
// CommonJS package.
const { RegoEngine, TemplateFile } = createRequire(import.meta.url)("@aws/cloudformation-validate") as Validator;

const directory = mkdtempSync(join(tmpdir(), "bedrock-spend-validate-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function validate(name: string, template: unknown): Diagnostic[] {
  const file = join(directory, `${name}.template.json`);
  writeFileSync(file, JSON.stringify(template, null, 2));
  const engine = new RegoEngine();
  try {
    return engine.validateStandard(new TemplateFile(file)).diagnostics;
  } finally {
    engine.free();
  }
}

const format = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `[${d.severity}] ${d.ruleId}: ${d.message}`).join("\n");

/**
 * Every configuration whose templates differ in kind: the defaults, and every option on.
 * (`synthesize` also holds each to cdk-nag's packs, as it does every configuration a test synthesizes.)
 */
const VARIANTS: Record<string, Partial<Config>> = {
  defaults: {},
  "every option (JWT API with admin scope, e-mail on both topics, default budget, breakdowns, usage types)": {
    jwtIssuer: "https://login.example.com/",
    jwtAudience: ["spend-api", "dashboard"],
    jwtTenantClaim: "org_id",
    jwtAdminScope: "spend:admin",
    alertEmail: "finance@example.com",
    opsEmail: "oncall@example.com",
    defaultBudgetUsd: "100",
    defaultBudgetThresholds: "80,100",
    breakdowns: ["departmentId"],
    usageTypes: '{"models":{"AcmeModel":"acme.model-v1"}}',
    rawFailureRetentionDays: 3,
  },
  "existing log group, Bedrock logging off": { existingLogGroupName: "/aws/bedrock/shared-invocations", configureBedrockLogging: false },
  "reconciliation with a gzip CSV CUR export under a KMS key": {
    curBucket: "acme-cur-exports",
    curPrefix: "cur/bedrock-spend/data",
    curFormat: "csv",
    curCsvColumns: [...REQUIRED_CUR_COLUMNS],
    curKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  },
};

it("the validator reports schema errors (it is not vacuously green)", () => {
  const broken = { Resources: { Queue: { Type: "AWS::SQS::Queue", Properties: { Nope: 1, MessageRetentionPeriod: "abc" } } } };
  const errors = validate("broken", broken).filter((d) => d.severity === "ERROR" || d.severity === "FATAL");
  expect(errors.map((d) => d.message).join("\n")).toMatch(/Nope/);
});

for (const [variant, overrides] of Object.entries(VARIANTS)) {
  describe(`CloudFormation validation: ${variant}`, () => {
    let synthesized: SynthesizedApp;
    beforeAll(async () => {
      synthesized = await synthesize(overrides);
    }, 300_000);

    it("synthesizes every stack registered in sst.config.ts", () => {
      const reconciling = overrides.curBucket !== undefined ? ["Reconcile"] : [];
      expect(synthesized.stacks.map((stack) => stack.name)).toEqual([
        "Ingest",
        "Processing",
        "Lake",
        "Analytics",
        "Alerts",
        "Api",
        "Reprice",
        ...reconciling,
        "Monitoring",
      ]);
    });

    it("runs every Lambda function, the app's and the frameworks' own, on nodejs24.x, and the validator says nothing of a runtime", () => {
      const runtimes: string[] = [];
      const remarks: string[] = [];
      for (const { name, template } of synthesized.stacks) {
        for (const [id, resource] of Object.entries(template.findResources("AWS::Lambda::Function"))) {
          runtimes.push(`${name}/${id}: ${(resource as { Properties: { Runtime?: string } }).Properties.Runtime}`);
        }
        remarks.push(
          ...validate(name, template.toJSON())
            .filter((d) => /runtime|nodejs/i.test(d.message))
            .map((d) => `${name}: ${format([d])}`),
        );
      }
      expect(runtimes.length).toBeGreaterThanOrEqual(12);
      expect(runtimes.filter((runtime) => !runtime.endsWith(": nodejs24.x"))).toEqual([]);
      expect(remarks).toEqual([]);
    });

    it("has no ERROR or FATAL diagnostic in any template", () => {
      const report: string[] = [];
      let failed = false;
      for (const { name, template } of synthesized.stacks) {
        const diagnostics = validate(name, template.toJSON());
        const errors = diagnostics.filter((d) => d.severity === "ERROR" || d.severity === "FATAL");
        if (errors.length > 0) failed = true;
        report.push(`${name}: ${errors.length} errors\n${format(diagnostics.filter((d) => d.severity !== "INFO"))}`);
      }
      expect(failed, report.join("\n\n")).toBe(false);
    });
  });
}
