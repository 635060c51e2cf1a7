/**
 * docs/openapi.yaml for tests (generated from the zod schemas: packages/api/src/openapi.ts): its operations, and a checker for the JSON Schema keywords the
 * document uses, so that real responses and the document's examples can be validated against it.
 * An unsupported keyword is reported as an error rather than ignored.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseYamlSubset, type YamlValue } from "./yaml";

/** A JSON object of the document. */
export type Json = { [key: string]: YamlValue };

/** Path of the document in the repository. */
export const OPENAPI_PATH = fileURLToPath(new URL("../../../../docs/openapi.yaml", import.meta.url));

/** The parsed document. */
export function loadOpenApi(): Json {
  return parseYamlSubset(readFileSync(OPENAPI_PATH, "utf8")) as Json;
}

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/** One operation of the document, with its path- and operation-level parameters resolved. */
export interface DocumentedOperation {
  method: string;
  path: string;
  operation: Json;
  parameters: Json[];
}

/** Every operation of the document. */
export function operationsOf(doc: Json): DocumentedOperation[] {
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    const pathItem = item as Json;
    const shared = ((pathItem.parameters ?? []) as Json[]).map((parameter) => resolve(doc, parameter));
    for (const [key, value] of Object.entries(pathItem)) {
      if (!HTTP_METHODS.includes(key)) continue;
      const operation = value as Json;
      const own = ((operation.parameters ?? []) as Json[]).map((parameter) => resolve(doc, parameter));
      operations.push({ method: key.toUpperCase(), path, operation, parameters: [...shared, ...own] });
    }
  }
  return operations;
}

/** Follows a local `$ref` (`#/components/...`), if any. */
export function resolve(doc: Json, node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  if (!ref.startsWith("#/")) throw new Error(`only local references are supported: ${ref}`);
  let target: YamlValue = doc;
  for (const part of ref.slice(2).split("/")) {
    if (typeof target !== "object" || target === null || Array.isArray(target) || !(part in target)) throw new Error(`unresolved reference ${ref}`);
    target = target[part] as YamlValue;
  }
  return resolve(doc, target as Json);
}

/** Every `$ref` string in the document, with where it is. */
export function referencesOf(node: YamlValue, at = "$"): { ref: string; at: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, index) => referencesOf(item, `${at}[${index}]`));
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === "$ref" && typeof value === "string" ? [{ ref: value, at }] : referencesOf(value, `${at}.${key}`),
  );
}

const ANNOTATIONS = new Set(["description", "example", "examples", "title", "format"]);

/** Checks `value` against `schema`; returns the violations (empty when valid). */
export function validate(doc: Json, schema: Json, value: unknown, at = "$"): string[] {
  if (typeof schema.$ref === "string") return validate(doc, resolve(doc, schema), value, at);
  const errors: string[] = [];
  for (const [keyword, argument] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case "type": {
        const types = Array.isArray(argument) ? argument : [argument];
        if (!types.some((type) => hasType(value, type as string))) errors.push(`${at}: expected ${types.join(" or ")}, got ${JSON.stringify(value)}`);
        break;
      }
      case "oneOf": {
        const matches = (argument as Json[]).filter((option) => validate(doc, option, value, at).length === 0).length;
        if (matches !== 1) errors.push(`${at}: matches ${matches} of the oneOf schemas, expected exactly 1`);
        break;
      }
      case "anyOf": {
        if (!(argument as Json[]).some((option) => validate(doc, option, value, at).length === 0)) errors.push(`${at}: matches none of the anyOf schemas`);
        break;
      }
      case "enum":
        if (!(argument as YamlValue[]).includes(value as YamlValue)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(argument)}`);
        break;
      case "pattern":
        if (typeof value === "string" && !new RegExp(argument as string).test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${argument}`);
        break;
      case "minLength":
        if (typeof value === "string" && value.length < (argument as number)) errors.push(`${at}: shorter than ${argument}`);
        break;
      case "maxLength":
        if (typeof value === "string" && value.length > (argument as number)) errors.push(`${at}: longer than ${argument}`);
        break;
      case "minimum":
        if (typeof value === "number" && value < (argument as number)) errors.push(`${at}: ${value} < ${argument}`);
        break;
      case "maximum":
        if (typeof value === "number" && value > (argument as number)) errors.push(`${at}: ${value} > ${argument}`);
        break;
      case "exclusiveMinimum":
        if (typeof value === "number" && value <= (argument as number)) errors.push(`${at}: ${value} <= ${argument}`);
        break;
      case "minItems":
        if (Array.isArray(value) && value.length < (argument as number)) errors.push(`${at}: fewer than ${argument} items`);
        break;
      case "maxItems":
        if (Array.isArray(value) && value.length > (argument as number)) errors.push(`${at}: more than ${argument} items`);
        break;
      case "items":
        if (Array.isArray(value)) for (const [index, item] of value.entries()) errors.push(...validate(doc, argument as Json, item, `${at}[${index}]`));
        break;
      case "required":
        if (isObject(value)) for (const name of argument as string[]) if (!(name in value)) errors.push(`${at}: ${name} is required`);
        break;
      case "properties":
        if (isObject(value)) {
          for (const [name, propertySchema] of Object.entries(argument as Json)) {
            if (name in value) errors.push(...validate(doc, propertySchema as Json, value[name], `${at}.${name}`));
          }
        }
        break;
      case "additionalProperties":
        if (argument !== false) errors.push(`${at}: only additionalProperties: false is supported`);
        else if (isObject(value)) {
          const known = Object.keys((schema.properties ?? {}) as Json);
          for (const name of Object.keys(value)) if (!known.includes(name)) errors.push(`${at}: ${name} is not a documented property`);
        }
        break;
      default:
        errors.push(`${at}: unsupported schema keyword ${keyword}`);
    }
  }
  return errors;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isSafeInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/** The schema of an operation's JSON response for a status (`application/json`, or `application/problem+json` for an error). */
export function responseSchema(doc: Json, operation: Json, status: string): Json {
  const response = resolve(doc, (operation.responses as Json)[status] as Json);
  const content = response.content as Json;
  return ((content["application/json"] ?? content["application/problem+json"]) as Json).schema as Json;
}

/** The media type an operation documents for a status. */
export function responseMediaType(doc: Json, operation: Json, status: string): string {
  const response = resolve(doc, (operation.responses as Json)[status] as Json);
  return Object.keys(response.content as Json)[0] as string;
}
