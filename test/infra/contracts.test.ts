/**
 * The stacks keep to the functions' contracts (functions/src/lib/contracts.ts), checked on the
 * synthesized templates: every function's environment uses contract names only, configures its
 * handler, and holds nothing the handler does not read; every metric of the handlers' namespace
 * that an alarm or the dashboard watches is one a handler emits, under the same dimensions
 * (functions/test/contracts.test.ts checks that each handler emits what its line of
 * METRIC_EMITTERS says).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { fromEnvironment as aggregate } from "../../functions/src/aggregate";
import { fromEnvironment as alertSweep } from "../../functions/src/alert-sweep";
import { fromEnvironment as budgetAlert } from "../../functions/src/budget-alert";
import { fromEnvironment as bedrockLogging } from "../../functions/src/custom-resources/bedrock-logging";
import { fromEnvironment as lakeRedrive } from "../../functions/src/lake-redrive";
import { ENV, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICE_NAME } from "../../functions/src/lib/contracts";
import type { Environment } from "../../functions/src/lib/env";
import { fromEnvironment as reconcile } from "../../functions/src/reconcile";
import { fromEnvironment as redrive } from "../../functions/src/redrive";
import { fromEnvironment as reprice } from "../../functions/src/reprice";
import { fromEnvironment as spendApi } from "../../functions/src/spend-api";
import { fromEnvironment as transform } from "../../functions/src/transform";
import { METRIC_EMITTERS } from "../../functions/test/helpers/metric-emitters";
import { REQUIRED_CUR_COLUMNS } from "../../packages/core/src/bill/reconcile";
import { Monitoring } from "../../stacks/Monitoring";
import { flatten, resources } from "./helpers";
import { type SynthesizedApp, synthesize } from "./synth";

/** Each handler's configuration from the environment, by the function's `Handler`. */
const FROM_ENVIRONMENT: Record<string, (env: Environment) => unknown> = {
  "functions/src/aggregate.handler": aggregate,
  "functions/src/alert-sweep.handler": alertSweep,
  "functions/src/budget-alert.handler": budgetAlert,
  // Ingest's custom resource over Bedrock's logging setting: it reads the resource's properties, no variable.
  "functions/src/custom-resources/bedrock-logging.handler": bedrockLogging,
  "functions/src/redrive.handler": redrive,
  "functions/src/lake-redrive.handler": lakeRedrive,
  "functions/src/reprice.handler": reprice,
  "functions/src/reconcile.handler": reconcile,
  "functions/src/spend-api.handler": spendApi,
  "functions/src/transform.handler": transform,
};

/** Variables SST's `Function` adds to every function by itself. */
const SST_VARIABLES = ["AWS_NODEJS_CONNECTION_REUSE_ENABLED", "SST_APP", "SST_STAGE", "SST_SSM_PREFIX"];

/** Contract variables a stack may set that a handler does not read while it configures itself. */
const READ_LATER_OR_ELSEWHERE: Partial<Record<ENV, string>> = {
  [ENV.streamArn]: "redrive reads it for an on-failure record that does not name its stream",
  [ENV.metricsNamespace]: "Powertools' variable; the handlers set the namespace in code",
};

let synthesized: SynthesizedApp;
// Every function on (the JWT spend API too), with the optional variables set.
beforeAll(async () => {
  synthesized = await synthesize({
    jwtIssuer: "https://login.example.com/",
    jwtAudience: ["spend-api"],
    jwtAdminScope: "spend:admin",
    defaultBudgetUsd: "100",
    breakdowns: ["departmentId"],
    curBucket: "acme-cur-exports",
    curFormat: "csv",
    curCsvColumns: [...REQUIRED_CUR_COLUMNS],
    usageTypes: '{"models":{"AcmeModel":"acme.model-v1"}}',
  });
}, 300_000);

interface FunctionEnvironment {
  id: string;
  handler: string;
  variables: Record<string, string>;
}

/** The project's functions, each with its environment (CloudFormation tokens as placeholder strings). */
function projectFunctions(): FunctionEnvironment[] {
  return synthesized.stacks.flatMap(({ name, template }) =>
    Object.entries(resources(template, "AWS::Lambda::Function"))
      .filter(([, fn]) => String(fn.Properties.Handler).startsWith("functions/src/"))
      .map(([id, fn]) => {
        const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
        const values = Object.entries(variables).filter(([variable]) => !SST_VARIABLES.includes(variable));
        return {
          id: `${name}/${id}`,
          handler: String(fn.Properties.Handler),
          variables: Object.fromEntries(values.map(([variable, value]) => [variable, typeof value === "string" ? value : `token-${variable}`])),
        };
      }),
  );
}

/** A metric the handlers' namespace, as an alarm or a dashboard graph names it. */
interface MetricReference {
  where: string;
  name: string;
  dimensions: Record<string, string>;
}

function alarmReferences(): MetricReference[] {
  const template = synthesized.template(Monitoring);
  return Object.entries(resources(template, "AWS::CloudWatch::Alarm")).flatMap(([id, alarm]) => {
    const metrics = [
      alarm.Properties,
      ...((alarm.Properties.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[] | undefined) ?? []).flatMap((query) =>
        query.MetricStat ? [query.MetricStat.Metric] : [],
      ),
    ];
    return metrics
      .filter((metric) => metric.Namespace === METRICS_NAMESPACE)
      .map((metric) => ({
        where: `alarm ${id}`,
        name: String(metric.MetricName),
        dimensions: Object.fromEntries(((metric.Dimensions as { Name: string; Value: unknown }[] | undefined) ?? []).map((d) => [d.Name, flatten(d.Value)])),
      }));
  });
}

function dashboardReferences(): MetricReference[] {
  const template = synthesized.template(Monitoring);
  return Object.values(resources(template, "AWS::CloudWatch::Dashboard")).flatMap((dashboard) => {
    const body = JSON.parse(flatten(dashboard.Properties.DashboardBody)) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] };
    return body.widgets.flatMap((widget) =>
      (widget.properties.metrics ?? [])
        .filter((metric) => metric[0] === METRICS_NAMESPACE)
        .map((metric) => {
          const pairs = metric.slice(2).filter((part) => typeof part === "string") as string[];
          const dimensions: Record<string, string> = {};
          for (let index = 0; index + 1 < pairs.length; index += 2) dimensions[pairs[index] as string] = pairs[index + 1] as string;
          return { where: `dashboard graph "${widget.properties.title}"`, name: String(metric[1]), dimensions };
        }),
    );
  });
}

/** Whether a handler emits this metric under exactly these dimensions. */
function emitted(reference: MetricReference): boolean {
  return METRIC_EMITTERS.some(
    (emitter) =>
      Object.values(emitter.metrics).some((metric) => metric.name === reference.name) &&
      JSON.stringify(Object.entries({ [SERVICE_DIMENSION]: SERVICE_NAME, ...emitter.dimensions }).sort()) ===
        JSON.stringify(Object.entries(reference.dimensions).sort()),
  );
}

describe("Stacks and handlers: environment contract", () => {
  it("every function's environment holds contract names only, configures its handler and holds nothing it does not read", () => {
    const functions = projectFunctions();
    // aggregate, redrive, lake-redrive, reprice, transform, budget-alert, alert-sweep, spend-api (IAM) and spend-api (JWT).
    expect(functions.map((fn) => fn.handler).sort()).toStrictEqual([...Object.keys(FROM_ENVIRONMENT), "functions/src/spend-api.handler"].sort());
    for (const fn of functions) {
      const contract = Object.values(ENV) as string[];
      expect(
        Object.keys(fn.variables).filter((variable) => !contract.includes(variable)),
        `${fn.id}: not in the contract`,
      ).toStrictEqual([]);

      const read = new Set<string>();
      const env = new Proxy(fn.variables, {
        get: (target, variable) => {
          if (typeof variable === "string") read.add(variable);
          return Reflect.get(target, variable);
        },
      });
      expect(() => FROM_ENVIRONMENT[fn.handler]?.(env), `${fn.id}: configures from its stack's environment`).not.toThrow();
      const unread = Object.keys(fn.variables).filter((variable) => !read.has(variable) && !(variable in READ_LATER_OR_ELSEWHERE));
      expect(unread, `${fn.id}: set by the stack, never read`).toStrictEqual([]);
    }
  });
});

describe("Stacks and handlers: metric contract", () => {
  it("every metric of the handlers' namespace an alarm or the dashboard watches is emitted by a handler, under the same dimensions", () => {
    const alarms = alarmReferences();
    const graphs = dashboardReferences();
    expect(alarms.length).toBeGreaterThanOrEqual(4);
    expect(graphs.length).toBeGreaterThanOrEqual(15);
    expect([...alarms, ...graphs].filter((reference) => !emitted(reference))).toStrictEqual([]);
  });
});
