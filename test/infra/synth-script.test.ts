/**
 * `pnpm synth --out DIR` (scripts/synth.ts), run as a user runs it: a child process, without
 * NODE_ENV (the script sets it) and without AWS credentials or BEDROCK_SPEND_* variables.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const STACKS = ["Ingest", "Processing", "Lake", "Analytics", "Alerts", "Api", "Reprice", "Monitoring"];

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "NODE_ENV" || key.startsWith("BEDROCK_SPEND_") || key.startsWith("AWS_") || key.startsWith("VITEST")) continue;
    env[key] = value;
  }
  const result = spawnSync("pnpm", ["exec", "tsx", "scripts/synth.ts", ...args], { env, encoding: "utf8", timeout: 280_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const out = mkdtempSync(join(tmpdir(), "bedrock-spend-synth-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("pnpm synth", () => {
  it("is a usage error (exit 2) without --out", () => {
    const result = run([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--out is required/);
  }, 60_000);

  describe("--out DIR", () => {
    let result: ReturnType<typeof run>;
    beforeAll(() => {
      result = run(["--out", out, "--stage", "test"]);
    }, 300_000);

    it("exits 0 and says what it wrote", () => {
      expect(result.status, result.stderr).toBe(0);
      for (const stack of STACKS) expect(result.stdout).toContain(join(out, `${stack}.template.json`));
    });

    it("writes one CloudFormation template per stack, named <Stack>.template.json", () => {
      expect(readdirSync(out).sort()).toEqual(STACKS.map((stack) => `${stack}.template.json`).sort());
      for (const stack of STACKS) {
        const template = JSON.parse(readFileSync(join(out, `${stack}.template.json`), "utf8")) as { Resources: Record<string, unknown> };
        expect(Object.keys(template.Resources).length, stack).toBeGreaterThan(0);
      }
      const ingest = readFileSync(join(out, "Ingest.template.json"), "utf8");
      expect(ingest).toContain("AWS::Logs::SubscriptionFilter");
    });

    it("bundles the functions for real (asset code and the real handler, not SST's placeholder)", () => {
      const processing = JSON.parse(readFileSync(join(out, "Processing.template.json"), "utf8")) as {
        Resources: Record<string, { Type: string; Properties: { Handler?: string; Code?: Record<string, unknown> } }>;
      };
      const aggregate = Object.values(processing.Resources).find((resource) => resource.Properties.Handler === "functions/src/aggregate.handler");
      expect(aggregate?.Properties.Code).toMatchObject({ S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) });
      expect(JSON.stringify(processing)).not.toContain("placeholder");
    });

    it("leaves the account to CloudFormation (AWS::AccountId) when none is given", () => {
      const ingest = readFileSync(join(out, "Ingest.template.json"), "utf8");
      expect(ingest).toContain('"Ref": "AWS::AccountId"');
      expect(ingest).not.toContain("123456789012");
    });

    it("writes templates CloudFormation's validator accepts (no ERROR or FATAL)", () => {
      const { RegoEngine, TemplateFile } = createRequire(import.meta.url)("@aws/cloudformation-validate") as {
        RegoEngine: new () => { validateStandard(file: unknown): { diagnostics: Array<{ severity: string; ruleId: string; message: string }> }; free(): void };
        TemplateFile: new (path: string) => unknown;
      };
      const errors: string[] = [];
      for (const stack of STACKS) {
        const file = join(out, `${stack}.template.json`);
        expect(existsSync(file)).toBe(true);
        const engine = new RegoEngine();
        try {
          for (const d of engine.validateStandard(new TemplateFile(file)).diagnostics) {
            if (d.severity === "ERROR" || d.severity === "FATAL") errors.push(`${stack}: [${d.severity}] ${d.ruleId} ${d.message}`);
          }
        } finally {
          engine.free();
        }
      }
      expect(errors).toEqual([]);
    });
  });
});
