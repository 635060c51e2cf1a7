/**
 * `bedrock-spend report [--month YYYY-MM | --from A --to B] [--group-by D] [--top N] [--json]`: the
 * report across tenants (`GET /v1/spend`), ranked by cost: the same answer as the API, from the
 * data dir's aggregates or a deployed stage's API (--stage).
 */
import { parseCommandArgs } from "../args";
import { CLOCK_ENV } from "../clock";
import { STAGE_OPTIONS } from "../deployment";
import { UsageError } from "../errors";
import { LOCAL_OPTIONS_HELP } from "../local";
import { type ReportOptions, runReport } from "./spend";

export const REPORT_HELP = `Usage: bedrock-spend report [--month YYYY-MM | --from DATE --to DATE]
                            [--group-by tenant|tenantGroup|department|application|user|model]
                            [--top N] [--cursor C] [options]

Ranks the tenants (or departments, applications, users, models, tenant groups) of a period by
cost, highest first, ties by key: invocations, unpriced invocations, tokens by class and the exact
cost of each, from the aggregates (what ingest and start counted; as fresh as the last counted
batch, "as of" in the header). With --json, the object the spend API answers (GET /v1/spend).
A department, application or user ranking needs the aggregator to write it
(BEDROCK_SPEND_BREAKDOWNS); tenant and model always work.

Options:
  --month YYYY-MM   a UTC calendar month (default: the current one)
  --from, --to      a range of days (YYYY-MM-DD) or months (YYYY-MM), inclusive, instead of --month
  --group-by D      tenant (default), tenantGroup, department, application, user or model
  --top N           the N groups of highest cost, 1-1000 (default 100)
  --cursor C        the groups after a previous page, as it named them
  --stage NAME      ask the deployed stage NAME instead: its spend API (IAM Function URL), signed
                    with your AWS credentials (needs lambda:InvokeFunctionUrl on it)
  --region R        the stage's Region (default: the AWS SDK's)
  --profile P       the AWS profile to call it with (default: the SDK's chain, AWS_PROFILE)
${LOCAL_OPTIONS_HELP}

Uses the DynamoDB Local of a running "bedrock-spend start" on the data dir, or starts one. When
more groups follow, stderr names the --cursor of the next page. The current month is the clock's
(${CLOCK_ENV}=2026-11-27T12:00:00Z runs as of that instant). Exit status: 0, or 2 for usage
errors.`;

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      month: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      "group-by": { type: "string" },
      top: { type: "string" },
      cursor: { type: "string" },
      ...STAGE_OPTIONS,
    },
    REPORT_HELP,
  );
  if (values.help) {
    process.stdout.write(`${REPORT_HELP}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`report: unexpected argument "${positionals[0]}"`, { help: REPORT_HELP });
  const options: ReportOptions = {
    groupBy: values["group-by"] ?? "tenant",
    month: values.month,
    from: values.from,
    to: values.to,
    limit: values.top,
    cursor: values.cursor,
  };
  return runReport(options, values, REPORT_HELP, { limit: "--top" });
}
