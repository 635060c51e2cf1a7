/**
 * cdk-nag's `AwsSolutions` and `Serverless` rule packs over a synthesized app. cdk-nag 2.x (the
 * line that works with the aws-cdk-lib 2.224 SST 2.49.8 pins; 3.x calls the newer `Validations`
 * API) is an aspect: each pack visits every `CfnResource` of a stack and reports a finding as
 * `aws:cdk:error` / `aws:cdk:warning` metadata on the construct, unless the resource carries a
 * suppression for it (`stacks/nag-suppressions.ts`).
 */
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import type { SynthesizedApp, SynthesizedStack } from "./synth";

/** One unsuppressed finding: the rule (with the finding, `AwsSolutions-IAM5[Resource::*]`), where, what. */
export interface NagFinding {
  stack: string;
  path: string;
  level: "error" | "warning";
  rule: string;
  message: string;
}

/** `AwsSolutions-IAM5[Resource::*]: info`, `CdkNagValidationFailure[Serverless-LambdaDLQ]: info`. */
const FINDING = /^((?:AwsSolutions-|Serverless-|CdkNagValidationFailure)\w*(?:\[.*?\])?): (.*)$/s;
const NAG = /AwsSolutions-|Serverless-|CdkNag/;
const LEVELS: Record<string, NagFinding["level"]> = { "aws:cdk:error": "error", "aws:cdk:warning": "warning" };

/** The packs the app is held to; no CSV reports on disk. */
export function nagPacks(): NagPack[] {
  return [new AwsSolutionsChecks({ reports: false }), new ServerlessChecks({ reports: false })];
}

/** Runs the packs over every construct under `root` (once per construct) and returns the findings they reported. */
export function nagConstruct(root: IConstruct, stackName: string, packs: NagPack[] = nagPacks()): NagFinding[] {
  const nodes = root.node.findAll();
  for (const node of nodes) for (const pack of packs) pack.visit(node);
  const findings: NagFinding[] = [];
  for (const node of nodes) {
    for (const entry of node.node.metadata) {
      const level = LEVELS[entry.type];
      if (!level || typeof entry.data !== "string") continue;
      const text = entry.data.trim();
      if (!NAG.test(text)) continue;
      const match = FINDING.exec(text);
      findings.push({ stack: stackName, path: node.node.path, level, rule: match?.[1] ?? "(unparsed)", message: (match?.[2] ?? text).trim() });
    }
  }
  return findings;
}

const checked = new WeakMap<SynthesizedStack, NagFinding[]>();

/** The unsuppressed findings of every stack of a synthesized app (each stack checked once). */
export function nagFindings(synthesized: SynthesizedApp): NagFinding[] {
  return synthesized.stacks.flatMap((stack) => {
    let findings = checked.get(stack);
    if (!findings) {
      findings = nagConstruct(stack.stack, stack.name);
      checked.set(stack, findings);
    }
    return findings;
  });
}

/** Findings as lines for a failure message: `rule  path  message`. */
export function formatFindings(findings: NagFinding[]): string {
  return findings.map((f) => `${f.level.toUpperCase()} ${f.rule}  ${f.path}\n    ${f.message}`).join("\n");
}

/** A suppression's reason must name what it rests on: the AWS documentation, or a design decision of the stacks. */
const SOURCED_REASON = /docs\.aws\.amazon\.com|Service Authorization Reference|Design decision|stacks\/|SST|CDK/;

/** Suppressions of a synthesized app whose reason names no source, as `stack/logicalId rule: reason`. */
export function unsourcedSuppressions(synthesized: Pick<SynthesizedApp, "stacks">): string[] {
  const unsourced: string[] = [];
  for (const { name, template } of synthesized.stacks) {
    for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>)) {
      const rules = (resource.Metadata?.cdk_nag as { rules_to_suppress?: Array<{ id: string; reason: string }> } | undefined)?.rules_to_suppress ?? [];
      for (const rule of rules) if (!SOURCED_REASON.test(rule.reason)) unsourced.push(`${name}/${id} ${rule.id}: ${rule.reason}`);
    }
  }
  return unsourced;
}

/** An app that cdk-nag's packs do not pass: the findings, and the suppressions without a sourced reason. */
export class NagFindingsError extends Error {
  override readonly name = "NagFindingsError";
  constructor(
    readonly variant: string,
    readonly findings: NagFinding[],
    readonly unsourced: string[],
  ) {
    super(
      `cdk-nag over the app synthesized with ${variant}: ${findings.length} unsuppressed finding(s), ${unsourced.length} suppression(s) without a sourced reason` +
        (findings.length > 0 ? `\n${formatFindings(findings)}` : "") +
        (unsourced.length > 0 ? `\n${unsourced.join("\n")}` : ""),
    );
  }
}

/** Throws `NagFindingsError` unless every stack of `synthesized` passes both packs and every suppression names its source. */
export function assertNagClean(synthesized: SynthesizedApp, variant: string): void {
  const findings = nagFindings(synthesized);
  const unsourced = unsourcedSuppressions(synthesized);
  if (findings.length > 0 || unsourced.length > 0) throw new NagFindingsError(variant, findings, unsourced);
}
