/**
 * Helpers for reading synthesized CloudFormation templates in the infrastructure tests.
 */
import type { Template } from "aws-cdk-lib/assertions";
import { expect } from "vitest";

/** A template resource. */
export interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** An IAM policy statement as CloudFormation holds it. */
export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The resources of a type, by logical id. */
export function resources(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The single resource of a type (optionally matching `props`, as `findResources` does): its logical id and body. */
export function only(template: Template, type: string, props?: Record<string, unknown>): [string, Resource] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined) as Record<string, Resource>);
  expect(found, `exactly one ${type}${props ? ` matching ${JSON.stringify(props)}` : ""}`).toHaveLength(1);
  return found[0] as [string, Resource];
}

/**
 * Renders a CloudFormation value as a string in Fn::Sub notation: `Fn::Join` pieces are
 * concatenated, `{Ref: X}` becomes `${X}`, `{Fn::GetAtt: [X, A]}` becomes `${X.A}` and
 * `{Fn::ImportValue: N}` becomes `${ImportValue:N}`. Assertions on ARNs built by CDK then read
 * as the ARN they resolve to.
 */
export function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && value !== null) {
    const object = value as Record<string, unknown>;
    if ("Ref" in object) return `\${${String(object.Ref)}}`;
    if ("Fn::GetAtt" in object) return `\${${(object["Fn::GetAtt"] as string[]).join(".")}}`;
    if ("Fn::ImportValue" in object) return `\${ImportValue:${flatten(object["Fn::ImportValue"])}}`;
    if ("Fn::Join" in object) {
      const [separator, parts] = object["Fn::Join"] as [string, unknown[]];
      return parts.map(flatten).join(separator);
    }
  }
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** `Action` (or any string-or-list field) as a list. */
export function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The statements of every policy attached to a role in the template: inline policies and AWS::IAM::Policy resources naming it. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = template.toJSON().Resources[roleId] as Resource;
  const inline = list(role.Properties.Policies).flatMap((policy) => (policy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);
  const attached = Object.values(resources(template, "AWS::IAM::Policy"))
    .filter((policy) => list(policy.Properties.Roles).some((ref) => (ref as { Ref?: string }).Ref === roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached];
}

/** The logical id of a Lambda function's execution role. */
export function roleOfFunction(template: Template, functionId: string): string {
  const fn = template.toJSON().Resources[functionId] as Resource;
  return (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
}

/** The logical id of the Lambda function with this handler. */
export function functionWithHandler(template: Template, handler: string, environment?: Record<string, unknown>): string {
  const matches = Object.entries(resources(template, "AWS::Lambda::Function")).filter(([, fn]) => {
    if (fn.Properties.Handler !== handler) return false;
    const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    return Object.entries(environment ?? {}).every(([key, value]) => JSON.stringify(variables[key]) === JSON.stringify(value));
  });
  expect(
    matches.map(([id]) => id),
    `one function with handler ${handler} ${JSON.stringify(environment ?? {})}`,
  ).toHaveLength(1);
  return (matches[0] as [string, Resource])[0];
}

/** The environment variables of a function. */
export function environmentOf(template: Template, functionId: string): Record<string, unknown> {
  const fn = template.toJSON().Resources[functionId] as Resource;
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** The name of the export whose value is `{Ref: logicalId}` (or `{Fn::GetAtt: [logicalId, attribute]}`): what another stack imports. */
export function exportOfRef(template: Template, logicalId: string, attribute?: string): string {
  const value = attribute ? { "Fn::GetAtt": [logicalId, attribute] } : { Ref: logicalId };
  const outputs = (template.toJSON().Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: string } }>;
  const found = Object.values(outputs).find((output) => JSON.stringify(output.Value) === JSON.stringify(value) && output.Export);
  if (!found?.Export) throw new Error(`no export of ${JSON.stringify(value)}`);
  return found.Export.Name;
}
