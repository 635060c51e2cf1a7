/**
 * The OpenAPI 3.1 document of the spend API, generated from the zod schemas that validate the
 * requests (schemas.ts), of its bodies (response-schemas.ts) and the route table (routes.ts): docs/openapi.yaml is this function's
 * output (`pnpm exec tsx scripts/generate-openapi.ts` writes it; packages/api/test/openapi.test.ts
 * checks that the committed file equals it).
 */
import * as z from "zod/mini";
import { MAX_REQUEST_BODY_BYTES } from "./http";
import {
  AlertListSchema,
  BudgetInputSchema,
  BudgetResourceSchema,
  COMPONENT_SCHEMAS,
  ReportSchema,
  RepriceAuditSchema,
  RepriceListSchema,
  SpendSchema,
} from "./response-schemas";
import { SPEND_API_ROUTES, type SpendApiOperation } from "./routes";
import { AlertsQuerySchema, REPORT_GROUP_BY, ReportQuerySchema, SpendQuerySchema } from "./schemas";

/** A JSON value of the document. */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** The component name of a schema (its `id` meta). */
function idOf(schema: z.ZodMiniType): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id !== "string") throw new Error("a component schema has no id");
  return id;
}

/** JSON Schema of one schema, components referenced, without `$schema`. */
function jsonSchemaOf(schema: z.ZodMiniType): JsonObject {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as unknown as JsonObject;
  return rest;
}

/** The components, each referring to the others by `$ref`. */
function componentSchemas(): JsonObject {
  const registry = z.registry<{ id: string }>();
  for (const schema of COMPONENT_SCHEMAS) registry.add(schema, { id: idOf(schema) });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: "any" }) as unknown as {
    schemas: Record<string, JsonObject>;
  };
  const out: JsonObject = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema;
    out[name] = rest;
  }
  return out;
}

/** The query parameters of a strict object schema. */
function queryParameters(schema: z.ZodMiniObject): JsonObject[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const { description, ...json } = jsonSchemaOf(field as z.ZodMiniType);
    return { name, in: "query", required: false, ...(description === undefined ? {} : { description }), schema: json };
  });
}

const problem = (description: string, example: JsonObject): JsonObject => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem"), example } },
});

const EXAMPLE_REQUEST_ID = "c0ffee00-1234-4abc-8def-0123456789ab";

/** An example problem; `_path` says which request it answers (the body does not echo it). */
const problemExample = (code: string, status: number, title: string, detail: string, _path: string, extra: JsonObject = {}): JsonObject => ({
  type: `tag:bedrock-spend.dev,2026:problems/${code.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase()}`,
  title,
  status,
  detail,
  instance: `urn:uuid:${EXAMPLE_REQUEST_ID}`,
  code,
  requestId: EXAMPLE_REQUEST_ID,
  ...extra,
});

const RESPONSES: JsonObject = {
  BadRequest: problem(
    "A malformed input; `field` names it (month, day, from, to, by, groupBy, limit, cursor, tenantId, an unknown query parameter, body, monthlyUsd, thresholds), and `allowed` lists the values it may take when they are few.",
    problemExample(
      "BadRequest",
      400,
      "The request is not valid",
      'groupBy must be one of tenant, tenantGroup, department, application, user, model; got "team"',
      "/v1/spend",
      {
        field: "groupBy",
        allowed: [...REPORT_GROUP_BY],
      },
    ),
  ),
  PayloadTooLarge: problem(
    `A request body over ${MAX_REQUEST_BODY_BYTES} bytes, refused before it is parsed.`,
    problemExample(
      "PayloadTooLarge",
      413,
      "The request body is too large",
      `the request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes`,
      "/v1/tenants/acme/budget",
      { field: "body" },
    ),
  ),
  Forbidden: problem(
    "No IAM principal, no token, no tenant claim, a tenant claim other than the path's tenant, a budget write with a token without the admin scope, a tenant's token on a cross-tenant route, or a token on an administrators' route (reprices).",
    problemExample(
      "Forbidden",
      403,
      "The caller may not do this",
      "the token's tenant_id claim does not match the tenant of the path",
      "/v1/tenants/globex/spend",
    ),
  ),
  NotFound: problem(
    "Nothing of that name: a tenant with no budget of its own to delete, a reprice id never used.",
    problemExample("NotFound", 404, "Not found", "the tenant has no budget of its own to delete", "/v1/tenants/acme/budget"),
  ),
  ServiceUnavailable: problem(
    "The report's source is missing: the table has no by-period index yet (a stack deployed before the cross-tenant report: deploy the current stack), or a report that reads the lake (groupBy=model, a tenant ranking over days or several months) from an API with no lake configured.",
    problemExample(
      "ServiceUnavailable",
      503,
      "The service cannot answer this now",
      "the aggregates table has no by-period index yet; deploy the current stack",
      "/v1/spend",
    ),
  ),
  InternalError: problem(
    "The store could not be read or written; nothing about the cause is disclosed.",
    problemExample("InternalError", 500, "Internal error", "internal error; try again later", "/v1/tenants/acme/spend"),
  ),
};

const errors = (...names: string[]): JsonObject =>
  Object.fromEntries(
    names.map((name) => [
      String({ BadRequest: 400, Forbidden: 403, NotFound: 404, PayloadTooLarge: 413, InternalError: 500, ServiceUnavailable: 503 }[name]),
      { $ref: `#/components/responses/${name}` },
    ]),
  );

const ok = (description: string, schema: z.ZodMiniType, examples: Record<string, JsonObject>): JsonObject => ({
  "200": {
    description,
    content: {
      "application/json": { schema: ref(idOf(schema)), examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])) },
    },
  },
});

const totals = (invocations: number, costUsd: string): JsonObject => ({
  invocations,
  unpricedInvocations: 0,
  inputTokens: invocations * 1000,
  outputTokens: invocations * 100,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd,
});

const SPEND_EXAMPLE: JsonObject = {
  tenantId: "acme",
  period: "2026-11",
  invocations: 42,
  unpricedInvocations: 1,
  inputTokens: 9120,
  outputTokens: 3310,
  cacheReadTokens: 800,
  cacheWriteTokens: 0,
  costUsd: "0.042170",
  budget: { monthlyUsd: "100.00", thresholds: [50, 80, 100] },
  asOf: "2026-11-15T11:59:58Z",
  forecast: { month: "2026-11", costUsd: "0.084340" },
};

/** What each operation says beyond its route. */
const OPERATIONS: Record<SpendApiOperation, JsonObject> = {
  getSpend: {
    tags: ["spend"],
    summary: "A tenant's spend for a month or a day",
    description:
      "Always 200 for a valid tenant id: a tenant with no usage yet (or none in the period) gets zeros, `asOf: null`. The month without `by` is one GetItem; a breakdown reads the day x model items (model, day) or the breakdown items (tenantGroup, department, application, user: months only; a dimension the aggregator does not write gives an empty breakdown, or a 400 when the deployment says which it writes).",
    responses: {
      ...ok("The tenant's spend (zeros when nothing is counted).", SpendSchema, {
        month: SPEND_EXAMPLE,
        byModel: {
          ...SPEND_EXAMPLE,
          breakdown: [{ key: "anthropic.claude-haiku-4-5-20251001-v1:0", ...totals(5, "0.012300") }],
        },
        noUsage: {
          tenantId: "newco",
          period: "2026-11",
          invocations: 0,
          unpricedInvocations: 0,
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: "0.000000",
          budget: null,
          asOf: null,
          forecast: { month: "2026-11", costUsd: "0.000000" },
        },
      }),
      ...errors("BadRequest", "Forbidden", "InternalError"),
    },
  },
  getAlerts: {
    tags: ["budget"],
    summary: "The budget alerts fired for a tenant",
    description: "Threshold and forecast alerts, each fired once per tenant, month and threshold; newest first. An empty list for a tenant with none.",
    responses: {
      ...ok("The tenant's alerts.", AlertListSchema, {
        fired: {
          tenantId: "acme",
          alerts: [
            {
              alertId: "acme#2026-11#080",
              kind: "threshold",
              threshold: 80,
              month: "2026-11",
              spendUsd: "80.120000",
              budgetUsd: "100.00",
              forecastUsd: "160.240000",
              firedAt: "2026-11-15T10:00:01.000Z",
            },
          ],
        },
      }),
      ...errors("BadRequest", "Forbidden", "InternalError"),
    },
  },
  getBudget: {
    tags: ["budget"],
    summary: "The budget that applies to a tenant",
    description: "Its own budget, else the deployment's default, else none. 404 when nothing at all is recorded for the tenant.",
    responses: {
      ...ok("The budget that applies.", BudgetResourceSchema, {
        own: { tenantId: "acme", budget: { monthlyUsd: "100.00", thresholds: [50, 80, 100] }, source: "tenant" },
        none: { tenantId: "acme", budget: null, source: "none" },
      }),
      ...errors("BadRequest", "Forbidden", "NotFound", "InternalError"),
    },
  },
  putBudget: {
    tags: ["budget"],
    summary: "Sets a tenant's own budget",
    description: "IAM callers and tokens with the admin scope only: a tenant may not raise or lift its own cap.",
    requestBody: {
      required: true,
      content: {
        "application/json": { schema: ref(idOf(BudgetInputSchema)), examples: { budget: { value: { monthlyUsd: "100.00", thresholds: [50, 80, 100] } } } },
      },
    },
    responses: {
      ...ok("The budget now set.", BudgetResourceSchema, {
        set: { tenantId: "acme", budget: { monthlyUsd: "100.00", thresholds: [50, 80, 100] }, source: "tenant" },
      }),
      ...errors("BadRequest", "Forbidden", "PayloadTooLarge", "InternalError"),
    },
  },
  deleteBudget: {
    tags: ["budget"],
    summary: "Removes a tenant's own budget",
    description: "IAM callers and tokens with the admin scope only. Answers the budget that applies afterwards (the default, or none).",
    responses: {
      ...ok("The budget that applies now.", BudgetResourceSchema, { removed: { tenantId: "acme", budget: null, source: "none" } }),
      ...errors("BadRequest", "Forbidden", "NotFound", "InternalError"),
    },
  },
  getReport: {
    tags: ["report"],
    summary: "Spend across tenants, grouped and ranked by cost",
    description:
      "For service callers: IAM, or a token with the admin scope; a tenant's token gets 403. Groups are sorted by cost, highest first, ties by key, and paged with an opaque cursor that neither loses nor repeats a group while the period's aggregates do not change (a closed month); groups whose cost changes between two pages may move. Sources, by what is asked (docs/aggregates-table.md): a tenant ranking of one month reads the month totals' rank entries, kept from the table's stream (seconds behind the totals), and the exact totals of about `limit` tenants per page; tenantGroup, department, application and user read the monthly breakdown items (whole months only) from the table's by-period index, as fresh as the totals; groupBy=model, and a tenant ranking over days or several months, read the lake through Athena (as fresh as Firehose's buffer, 1 to 15 minutes; each request id counted once). `asOf` is the newest update among what was read. Totals are exact (decimal sums, never floats).",
    responses: {
      ...ok("One page of groups.", ReportSchema, {
        tenants: {
          period: "2026-11",
          groupBy: "tenant",
          groups: [
            { key: "acme", ...totals(42, "0.042170") },
            { key: "globex", ...totals(7, "0.007000") },
          ],
          nextCursor: "eyJ2IjoxLCJnIjoidGVuYW50IiwicCI6IjIwMjYtMTEiLCJjIjoiNzAwMDAwMDAwMCIsImsiOiJnbG9iZXgifQ",
          asOf: "2026-11-15T11:59:58Z",
        },
        modelsOverDays: {
          period: "2026-11-03/2026-11-27",
          groupBy: "model",
          groups: [{ key: "anthropic.claude-haiku-4-5-20251001-v1:0", ...totals(2, "0.001950") }],
          nextCursor: null,
          asOf: "2026-11-27T23:59:59Z",
        },
      }),
      ...errors("BadRequest", "Forbidden", "ServiceUnavailable", "InternalError"),
    },
  },
  listReprices: {
    tags: ["reprices"],
    summary: "The reprice audit trail",
    description: "Administrators only (IAM callers); a token always gets 403. 404 when the deployment serves no reprice history.",
    responses: {
      ...ok("Every reprice, newest first.", RepriceListSchema, { none: { reprices: [] } }),
      ...errors("BadRequest", "Forbidden", "NotFound", "InternalError"),
    },
  },
  getReprice: {
    tags: ["reprices"],
    summary: "One reprice's audit record",
    description: "Administrators only (IAM callers); a token always gets 403.",
    responses: {
      "200": { description: "The audit record.", content: { "application/json": { schema: ref(idOf(RepriceAuditSchema)) } } },
      ...errors("BadRequest", "Forbidden", "NotFound", "InternalError"),
    },
  },
};

/** The query schema of each operation that takes a query. */
const QUERIES: Partial<Record<SpendApiOperation, z.ZodMiniObject>> = { getSpend: SpendQuerySchema, getAlerts: AlertsQuerySchema, getReport: ReportQuerySchema };

const PATH_PARAMETERS: Record<string, JsonObject> = {
  tenantId: { $ref: "#/components/parameters/TenantId" },
  repriceId: { $ref: "#/components/parameters/RepriceId" },
};

const DESCRIPTION = `Per-tenant Amazon Bedrock spend, from the aggregates that bedrock-spend keeps exactly once in DynamoDB, per-tenant monthly budgets and alerts, and spend across tenants for service callers.

Generated from the zod schemas that validate the requests (packages/api/src/schemas.ts); do not edit by hand: run \`pnpm exec tsx scripts/generate-openapi.ts\`.

Authorization. IAM (SigV4, Lambda Function URL with AWS_IAM) is for trusted service callers: an IAM principal may read and manage every tenant, and read across tenants (\`GET /v1/spend\`); its IAM policy is what limits it. With a JWT (API Gateway HTTP API JWT authorizer), the token's tenant claim (\`tenant_id\` by default, \`JWT_TENANT_CLAIM\`) must equal \`{tenantId}\` exactly, else 403; a token without the claim gets 403 too. Such a tenant's token only reads its own tenant: budget writes (PUT and DELETE) and the cross-tenant report need IAM or a token carrying the deployment's admin scope (\`JWT_ADMIN_SCOPE\`, in the \`scope\` or \`scp\` claim), else 403. Without an admin scope configured, tokens only read their own tenant. The reprice audit trail (\`/v1/reprices\`) is for IAM callers only. In local mode the same handler serves 127.0.0.1 without authentication.

Tenant ids. \`{tenantId}\` is percent-encoded once (\`acme#eu\` is \`acme%23eu\`) and must decode to a valid Bedrock \`requestMetadata\` value: 1-256 characters of \`a-z A-Z 0-9 whitespace : _ @ $ # = / + , - .\`; anything else is a 400. Through the HTTP API (which decodes paths before the function sees them) a tenant id containing \`/\` cannot be addressed; use the Function URL for such ids.

Responses are JSON (\`application/json\`); every error is RFC 9457 problem details (\`application/problem+json\`) with the extension members \`code\`, \`requestId\` (also in the \`x-request-id\` header of every response), \`field\` and \`allowed\`. A method a path does not serve gets 405 with an \`Allow\` header; an unknown path gets 404. Money is exact decimal strings, never binary floating point.
`;

/** The OpenAPI document, as a JSON value. */
export function openApiDocument(): JsonObject {
  const paths: JsonObject = {};
  for (const route of SPEND_API_ROUTES) {
    const operation = OPERATIONS[route.operation];
    const query = QUERIES[route.operation];
    const item = (paths[route.path] ?? {}) as JsonObject;
    const inPath = [...route.path.matchAll(/\{([A-Za-z]+)\}/g)].map((match) => PATH_PARAMETERS[match[1] as string] as JsonObject);
    if (inPath.length > 0) item.parameters = inPath;
    item[route.method.toLowerCase()] = {
      operationId: route.operation,
      ...operation,
      ...(query ? { parameters: queryParameters(query) } : {}),
    } as JsonObject;
    paths[route.path] = item;
  }
  return {
    openapi: "3.1.0",
    info: { title: "bedrock-spend spend API", version: "1.1.0", license: { name: "Apache-2.0", identifier: "Apache-2.0" }, description: DESCRIPTION },
    servers: [
      {
        url: "https://{functionUrlId}.lambda-url.{region}.on.aws",
        description: "Lambda Function URL (AWS_IAM, SigV4 service `lambda`)",
        variables: { functionUrlId: { default: "example" }, region: { default: "us-east-1" } },
      },
      {
        url: "https://{apiId}.execute-api.{region}.amazonaws.com",
        description: "API Gateway HTTP API (JWT authorizer)",
        variables: { apiId: { default: "example" }, region: { default: "us-east-1" } },
      },
      {
        url: "http://127.0.0.1:{port}",
        description: "local mode (no authentication, 127.0.0.1 only)",
        variables: { port: { default: "8080", description: "the port `bedrock-spend start` prints" } },
      },
    ],
    security: [{ sigv4: [] }, { jwt: [] }],
    tags: [
      { name: "spend", description: "Tenant spend by month or day, optionally broken down." },
      { name: "budget", description: "A tenant's monthly budget, alert thresholds and fired alerts." },
      { name: "report", description: "Spend across tenants, for service callers." },
      { name: "reprices", description: "The audit trail of reprices (history priced again with another catalog), for administrators." },
    ],
    paths,
    components: {
      securitySchemes: {
        sigv4: {
          type: "apiKey",
          name: "Authorization",
          in: "header",
          description:
            "AWS Signature Version 4 (service `lambda` for the Function URL). For trusted service callers: every tenant, and the cross-tenant report.",
          "x-amazon-apigateway-authtype": "awsSigv4",
        },
        jwt: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A token whose tenant claim (default `tenant_id`) must equal `{tenantId}`, for reads of that tenant; or a token with the admin scope, for any tenant, budget writes and the cross-tenant report.",
        },
      },
      parameters: {
        TenantId: {
          name: "tenantId",
          in: "path",
          required: true,
          description:
            "The tenant id, percent-encoded once (`#` as `%23`, `/` as `%2F`, space as `%20`). Surrounding whitespace is removed, as the pipeline removes it from `requestMetadata` values (`acme%20` names `acme`); an id that is only whitespace is refused.",
          schema: { type: "string", minLength: 1, maxLength: 256, pattern: "^[a-zA-Z0-9 \\t\\n\\v\\f\\r:_@$#=/+,\\-.]{1,256}$" },
          example: "acme",
        },
        RepriceId: {
          name: "repriceId",
          in: "path",
          required: true,
          description: "A reprice's id, as `GET /v1/reprices` lists it.",
          schema: { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$" },
          example: "20261202T100000123Z-1c2d3e4f5a6b",
        },
      },
      responses: RESPONSES,
      schemas: componentSchemas(),
    },
  };
}

/** A YAML key: plain when it cannot be read as anything but a string, else double-quoted. */
function yamlKey(key: string): string {
  return /^[A-Za-z_$/][A-Za-z0-9_$/{}.-]*$/.test(key) && !["null", "true", "false"].includes(key) ? key : JSON.stringify(key);
}

/**
 * A scalar: strings double-quoted (JSON escapes are YAML escapes), or single-quoted when they hold a
 * `"` and nothing a single-quoted scalar would need to escape (as Biome formats YAML); the rest as
 * JSON writes them.
 */
function yamlScalar(value: Json): string {
  if (Array.isArray(value)) return "[]";
  if (value !== null && typeof value === "object") return "{}";
  if (typeof value === "string" && value.includes('"') && !/['\\\u0000-\u001f\u007f]/.test(value)) return `'${value}'`;
  return JSON.stringify(value);
}

/** Whether a string reads back the same as a `|` block: several lines, one final newline, no tabs or edge spaces. */
function isLiteralBlock(text: string): boolean {
  return text.endsWith("\n") && !text.endsWith("\n\n") && text.slice(0, -1).includes("\n") && !/[\t\r]|^ | \n|^\n/.test(text) && !/ $/m.test(text);
}

function isCollection(value: Json): value is Json[] | JsonObject {
  return value !== null && typeof value === "object" && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0);
}

function yamlLines(value: Json, indent: number, out: string[]): void {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isCollection(item)) out.push(`${pad}- ${yamlScalar(item)}`);
      else if (Array.isArray(item)) {
        out.push(`${pad}-`);
        yamlLines(item, indent + 2, out);
      } else {
        const nested: string[] = [];
        yamlLines(item, indent + 2, nested);
        out.push(`${pad}- ${(nested[0] as string).slice(indent + 2)}`, ...nested.slice(1));
      }
    }
    return;
  }
  for (const [key, item] of Object.entries(value as JsonObject)) {
    if (item === undefined) continue;
    if (typeof item === "string" && isLiteralBlock(item)) {
      out.push(
        `${pad}${yamlKey(key)}: |`,
        ...item
          .slice(0, -1)
          .split("\n")
          .map((line) => (line === "" ? "" : `${pad}  ${line}`)),
      );
    } else if (!isCollection(item)) out.push(`${pad}${yamlKey(key)}: ${yamlScalar(item)}`);
    else {
      out.push(`${pad}${yamlKey(key)}:`);
      yamlLines(item, indent + 2, out);
    }
  }
}

/** The document as YAML (block style, every string double-quoted), with a header comment. */
export function openApiYaml(): string {
  const lines = [
    "# OpenAPI document of the bedrock-spend spend API (packages/api, served by functions/src/spend-api.ts).",
    "# GENERATED from the zod schemas in packages/api/src/schemas.ts by packages/api/src/openapi.ts:",
    "# do not edit; run `pnpm exec tsx scripts/generate-openapi.ts`. packages/api/test/openapi.test.ts",
    "# checks that this file equals the generated document and that the handler's responses satisfy it.",
  ];
  yamlLines(openApiDocument(), 0, lines);
  return `${lines.join("\n")}\n`;
}
