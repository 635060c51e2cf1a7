/**
 * `bedrock-spend start` (`pnpm start`): the local stack, generated traffic, the dashboard and the
 * spend API on 127.0.0.1, until Ctrl-C or the end of `--duration`.
 *
 * DynamoDB Local and kinesalite keep their data under the data dir, so a second start continues
 * where the first stopped. While it runs, the other commands (ingest, spend, budgets, alerts) use
 * its services: the data-dir lock names its endpoints.
 */
import { randomInt } from "node:crypto";
import { handleSpendApi, sqlReportLake } from "@bedrock-spend/api";
import { formatUsd } from "@bedrock-spend/core";
import { createDashboardServer, type DashboardServer, reconcileFileOf, reconcileFileSource } from "@bedrock-spend/dashboard";
import { listRepriceAudits } from "@bedrock-spend/store";
import { APPLICATION_PROFILES, generateTraffic, gzipStable, type TrafficItem, tenantProfileSpecs, toSubscriptionPayloads } from "@bedrock-spend/traffic";
import { parseCommandArgs, priceFileOf } from "../args";
import { CLOCK_ENV, clockFromEnv } from "../clock";
import { loadPricer } from "../config";
import { UsageError } from "../errors";
import { alertText, dataDirOf, grouped, LOCAL_OPTIONS_HELP, localCommand, pricingOf } from "../local";
import {
  acquireLock,
  DataDirBusyError,
  type DataDirLock,
  ensureTenantProfiles,
  isFreshDataDir,
  LocalStack,
  onShutdownSignal,
  readSampleMarker,
  SAMPLE_HISTORY_DAYS,
  SAMPLE_RECORDS_PER_DAY,
  type StackLog,
} from "../local-mode";
import { formatDuration } from "../progress";
import { seedStartHistory } from "../sample-history";

export const START_HELP = `Usage: bedrock-spend start [options]

Runs local mode until Ctrl-C: DynamoDB Local, kinesalite, the local Firehose writing Parquet,
the event source mappings calling the real handlers, DuckDB as the local Athena, the dashboard
and the spend API (under /v1/) on 127.0.0.1, and a generator of realistic multi-tenant Bedrock
traffic. Prints the dashboard URL when ready. Data stays in the data dir: a second start keeps it.
While it runs, ingest, spend, budgets and alerts on the same data dir use it.

Options:
  --port N            port of the dashboard and the spend API (default 8787; 0: any free port)
  --rate N            generated invocations per second (default 20)
  --tenants N         tenants of the generated traffic (default 50)
  --seed S            seed of the generated traffic (default: random). The same seed generates the
                      same invocations: run again, they are duplicates and count once
  --no-traffic        no generated traffic (ingest your own logs); no sample history either
  --no-history        on an empty data dir, no sample history: by default a first start puts
                      ${SAMPLE_HISTORY_DAYS} days of generated invocations (${SAMPLE_RECORDS_PER_DAY} a day) through the
                      pipeline and sets budgets for a few sample tenants, marked as sample data
  --duration SECONDS  stop after this long (default: until Ctrl-C)
  --chaos RATE        inject faults at RATE (0-1) on the aggregate path and the deliveries
  --prices FILE       price file laid over the shipped catalog (wins at the dates it covers)
  --prices-only FILE  price file used as the whole catalog
  --profiles FILE     application-inference-profile map (over the generated traffic's own)
  --aliases FILE      metadata key aliases
  --profile-tags FILE tag keys of application inference profiles per dimension:
                      {"tenantId": ["tenant", "customer"], "departmentId": ["cost-center"]}
${LOCAL_OPTIONS_HELP} (one JSON line when ready, one per alert, one at the end)

Time: the machine's clock, or ${CLOCK_ENV}=<ISO 8601 instant> to run as of that instant (the
generated traffic, budget evaluations, alerts and the dashboard's "today" follow it).

Exit status: 0 after Ctrl-C or --duration, 2 for usage errors (a start already running on the
data dir, a port in use), 1 if a local service cannot start (e.g. no Java).`;

const DEFAULT_PORT = 8787;

function integerOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`, { help: START_HELP });
  return value;
}

function numberOption(name: string, text: string | undefined, min: number, max: number, exclusiveMin = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < min || (exclusiveMin && value === min) || value > max)
    throw new UsageError(
      `--${name} must be a number ${exclusiveMin ? "above" : "from"} ${min}${max < Number.MAX_SAFE_INTEGER ? ` ${exclusiveMin ? "and at most" : "to"} ${max}` : ""}, got "${text}"`,
      {
        help: START_HELP,
      },
    );
  return value;
}

/** Generated traffic, put on the stream at its own pace: invocations whose time has come. */
class TrafficFeeder {
  private readonly items: Iterator<TrafficItem>;
  private next: TrafficItem | undefined;
  private sequence = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  generated = 0;

  constructor(
    private readonly stack: LocalStack,
    options: { rate: number; tenants: number; seed: string | number; tenantProfiles: Record<string, string> },
    private readonly onError: (error: unknown) => void,
  ) {
    this.items = generateTraffic({
      seed: options.seed,
      count: Number.POSITIVE_INFINITY,
      tenants: options.tenants,
      ratePerSecond: options.rate,
      start: stack.clock(),
      tenantProfiles: options.tenantProfiles,
    });
    this.next = this.items.next().value as TrafficItem | undefined;
  }

  start(intervalMs = 200): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.feed()
        .catch(this.onError)
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async feed(): Promise<void> {
    const now = this.stack.clock();
    const due: TrafficItem[] = [];
    while (this.next && this.next.timestampMs <= now && due.length < 50_000) {
      due.push(this.next);
      this.next = this.items.next().value as TrafficItem | undefined;
    }
    if (due.length === 0) return;
    const payloads = [...toSubscriptionPayloads(due, { firstSequence: this.sequence })].map((payload) => gzipStable(JSON.stringify(payload)));
    this.sequence += due.length;
    await this.stack.putPayloads(payloads);
    this.generated += due.filter((item) => item.kind === "record").length;
  }
}

/** Takes the data-dir lock for `start`: waits for a short command that holds it; refuses when a start runs. */
async function lockForStart(dataDir: string, pricing: ReturnType<typeof pricingOf>): Promise<DataDirLock> {
  let told = false;
  for (;;) {
    try {
      return await acquireLock(dataDir, "start", { pricing });
    } catch (error) {
      if (!(error instanceof DataDirBusyError)) throw error;
      const holder = error.holder;
      if (holder.role === "start")
        throw new UsageError(
          `bedrock-spend start is already running on ${holder.dataDir} (pid ${holder.pid})${holder.endpoints?.dashboard ? `: dashboard at ${holder.endpoints.dashboard}` : ""}`,
        );
      if (!told) process.stderr.write(`bedrock-spend: waiting for bedrock-spend ${holder.role} (pid ${holder.pid}) to finish with ${holder.dataDir} ...\n`);
      told = true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function startCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      port: { type: "string" },
      rate: { type: "string" },
      tenants: { type: "string" },
      seed: { type: "string" },
      "no-traffic": { type: "boolean" },
      "no-history": { type: "boolean" },
      duration: { type: "string" },
      chaos: { type: "string" },
      profiles: { type: "string" },
      aliases: { type: "string" },
      "profile-tags": { type: "string" },
    },
    START_HELP,
  );
  if (values.help) {
    process.stdout.write(`${START_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`start: unexpected argument "${positionals[0]}"`, { help: START_HELP });
  const port = integerOption("port", values.port, DEFAULT_PORT, 0, 65_535);
  const rate = numberOption("rate", values.rate, 0, 10_000, true) ?? 20;
  const tenants = integerOption("tenants", values.tenants, 50, 1, 1_000_000);
  const duration = numberOption("duration", values.duration, 0, Number.MAX_SAFE_INTEGER, true);
  const chaos = numberOption("chaos", values.chaos, 0, 1) ?? 0;
  const seed = values.seed ?? String(randomInt(1, 1_000_000_000));
  const traffic = !values["no-traffic"];
  const dataDir = dataDirOf(values["data-dir"]);
  const clock = clockFromEnv();
  const json = values.json === true;
  const pricer = await loadPricer(
    { ...priceFileOf(values), profiles: values.profiles, aliases: values.aliases, profileTags: values["profile-tags"] },
    APPLICATION_PROFILES,
  );
  const pricing = pricingOf(values);
  const say = (text: string) => process.stdout.write(`${text}\n`);
  const event = (fields: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(fields)}\n`);
  const log = (entry: StackLog) => {
    if (json && entry.level === "info") return;
    process.stderr.write(`bedrock-spend: ${entry.level === "info" ? "" : `${entry.level}: `}${entry.message}\n`);
  };

  return localCommand(async () => {
    const lock = await lockForStart(dataDir, pricing);
    // Sample history only on an empty data dir (checked before the stack creates its files).
    const history = traffic && !values["no-history"] && (await isFreshDataDir(dataDir));
    const stack = await LocalStack.start({
      dataDir,
      pricer,
      lock,
      role: "start",
      pricing,
      chaos,
      chaosSeed: Number(seed) || 1,
      handleSignals: false,
      clock,
      onLog: log,
      onAlert: (alert) => (json ? event({ event: "alert", ...alert }) : process.stderr.write(`${alertText(alert)}\n`)),
    });
    let server: DashboardServer | undefined;
    let feeder: TrafficFeeder | undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let stopped = false;
    const shutdown = async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(statusTimer);
      await feeder?.stop();
      await server?.close().catch(() => undefined);
      await stack.stop();
    };
    const reportLake = sqlReportLake((sql) => stack.athena.queryText(sql));
    try {
      server = createDashboardServer({
        data: stack.dashboardData(),
        spendApi: (request) =>
          handleSpendApi(request, {
            store: stack.store,
            breakdowns: stack.breakdowns,
            // Spend by model and tenants over days read the lake (the dashboard's DuckDB).
            lake: reportLake,
            reprices: { list: () => listRepriceAudits(stack.dynamoDb, stack.tableName) },
            defaultBudget: null,
            allowUnauthenticated: true,
            now: clock,
          }),
        reconciliation: reconcileFileSource(reconcileFileOf(dataDir)),
        sampleData: () => readSampleMarker(dataDir),
        now: clock,
        onError: (error, request) => log({ level: "error", message: `dashboard ${request.method} ${request.path}: ${(error as Error).message}` }),
      });
      let url: string;
      try {
        ({ url } = await server.listen(port, "127.0.0.1"));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
          throw new UsageError(`port ${port} on 127.0.0.1 is in use: give another with --port (0 picks a free one)`);
        throw error;
      }
      await lock.update({ endpoints: { ...stack.endpoints, dashboard: url } });
      // A few tenants call through their own tagged application inference profile, created on the stand-in.
      const tenantProfiles = traffic ? await ensureTenantProfiles(stack.bedrock, tenantProfileSpecs({ tenants })) : {};
      let sampleHistory: { days: number; records: number; seconds: number; budgets: { tenantId: string; monthlyUsd: string }[] } | null = null;
      if (history) {
        if (!json)
          process.stderr.write(
            `bedrock-spend: empty data dir: putting ${SAMPLE_HISTORY_DAYS} days of sample history through the pipeline (--no-history skips it) ...\n`,
          );
        let shownQuarter = 0;
        const seeded = await seedStartHistory(stack, {
          dataDir,
          tenants,
          seed,
          tenantProfiles,
          // A line at each quarter: the empty data dir's first start takes a while longer than the next ones.
          onProgress: ({ records, total, seconds }) => {
            const quarter = Math.floor((records * 4) / Math.max(1, total));
            if (json || quarter === shownQuarter) return;
            shownQuarter = quarter;
            process.stderr.write(`bedrock-spend: sample history: ${grouped(records)}/${grouped(total)} invocations through the pipeline (${seconds} s)\n`);
          },
        });
        const budgets = seeded.budgets.map((budget) => `${budget.tenantId} ${budget.monthlyUsd} USD`).join(", ");
        sampleHistory = { days: seeded.days, records: seeded.records, seconds: seeded.seconds, budgets: seeded.budgets };
        if (!json) {
          say(`bedrock-spend: sample data: ${seeded.days} days of generated history (${grouped(seeded.records)} invocations) in ${seeded.seconds} s`);
          if (budgets) say(`  budgets    sample budgets for ${budgets}`);
          say(`  start clean with --no-history on an empty --data-dir (the dashboard marks this data as sample data)`);
        }
      }
      stack.loop(200);
      if (traffic) {
        feeder = new TrafficFeeder(stack, { rate, tenants, seed, tenantProfiles }, (error) =>
          log({ level: "error", message: `traffic generator: ${(error as Error).message}` }),
        );
        feeder.start();
      }
      const readySeconds = Math.round(process.uptime() * 10) / 10;
      const readyAt = Date.now();
      if (json)
        event({
          event: "ready",
          url,
          api: `${url.replace(/\/$/, "")}/v1/`,
          dataDir,
          pid: process.pid,
          seconds: readySeconds,
          traffic: traffic ? { rate, tenants, seed } : null,
          sampleHistory,
        });
      else {
        say(`bedrock-spend: local stack ready in ${readySeconds} s, data in ${dataDir}/`);
        say(`  dashboard  ${url}`);
        say(`  spend API  ${url.replace(/\/$/, "")}/v1/tenants/{tenantId}/spend`);
        say(
          traffic
            ? `  traffic    ${rate} invocations/s from ${tenants} tenants (seed ${seed})`
            : "  traffic    none (--no-traffic): ingest logs with bedrock-spend ingest",
        );
        say(duration ? `Stops after ${duration} s (or Ctrl-C).` : "Press Ctrl-C to stop.");
        statusTimer = setInterval(() => process.stderr.write(`bedrock-spend: ${status(stack, readyAt)}\n`), 30_000);
        statusTimer.unref();
      }
      // Until Ctrl-C / SIGTERM, or the end of --duration.
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          clearTimeout(timer);
          remove();
          resolve();
        };
        const remove = onShutdownSignal({ run: done, exit: false });
        if (duration !== undefined) timer = setTimeout(done, duration * 1000);
      });
      if (!json) process.stderr.write("bedrock-spend: stopping ...\n");
      await shutdown();
      if (json) event({ event: "stopped", ...statsJson(stack), seconds: Math.round((Date.now() - readyAt) / 100) / 10 });
      else say(`bedrock-spend: stopped after ${formatDuration((Date.now() - readyAt) / 1000)}: ${status(stack, readyAt)}`);
      return 0;
    } catch (error) {
      await shutdown();
      throw error;
    }
  });
}

function statsJson(stack: LocalStack) {
  const { costPico, ...stats } = stack.stats;
  return { ...stats, costUsd: formatUsd(costPico) };
}

function status(stack: LocalStack, readyAt: number): string {
  const stats = stack.stats;
  const minutes = Math.max(1 / 60, (Date.now() - readyAt) / 60_000);
  return (
    `counted ${grouped(stats.counted)} invocations (${formatUsd(stats.costPico)} USD, ${Math.round(stats.counted / minutes).toLocaleString("en-US")}/min), ` +
    `${grouped(stats.duplicates)} duplicates, ${grouped(stats.quarantined)} quarantined, lake ${grouped(stats.lakeRows)} rows, ${grouped(stats.alerts)} alerts`
  );
}
