/**
 * The performance fields of an invocation log record (latencyMs, stopReason) by their definition,
 * written as paths into the record rather than as the walk of packages/core/src/invocation.ts: the
 * reference both of its paths (validation and fast path) must match. Test-only.
 */
import { body } from "./dimensions-reference";

/** What a record says of how the call went (null: it does not say, or says it in a shape not read). */
export interface PerformanceByDefinition {
  latencyMs: number | null;
  stopReason: string | null;
}

const TAIL = 6;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const absent = (value: unknown) => value === undefined || value === null;

/** A latency the lake keeps: a non-negative safe integer number of milliseconds. */
const latency = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : null);
/** A stop reason the lake keeps: a word of 1-64 characters starting with a letter. */
const reason = (value: unknown): string | null => (typeof value === "string" && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(value) ? value : null);

/** The performance fields of `record`. */
export function performanceByDefinition(record: Record<string, unknown>): PerformanceByDefinition {
  const output = record.output;
  const response = isObject(output) ? body(output.outputBodyJson) : undefined;
  if (Array.isArray(response)) {
    // The stream's last few events: the last metadata event's metrics, the last messageStop (or Anthropic message_delta).
    const tail = response.slice(-TAIL).reverse().filter(isObject);
    const metadata = tail.find((event) => isObject(event.metadata))?.metadata as Record<string, unknown> | undefined;
    const stop = tail.find((event) => isObject(event.messageStop) || (event.type === "message_delta" && isObject(event.delta)));
    const metrics = metadata?.metrics;
    return {
      latencyMs: isObject(metrics) ? latency(metrics.latencyMs) : null,
      stopReason:
        stop === undefined
          ? null
          : isObject(stop.messageStop)
            ? reason(stop.messageStop.stopReason)
            : reason((stop.delta as Record<string, unknown>).stop_reason),
    };
  }
  if (!isObject(response)) return { latencyMs: null, stopReason: null };
  const metrics = response.metrics;
  const direct = [response.stopReason, response.stop_reason, response.completionReason, response.finish_reason].find((value) => !absent(value));
  let stopReason: string | null;
  if (direct !== undefined) stopReason = reason(direct);
  else {
    const list = Array.isArray(response.choices) ? response.choices : Array.isArray(response.results) ? response.results : [];
    const first = list[0];
    stopReason = isObject(first) ? reason([first.finish_reason, first.completionReason, first.stop_reason].find((value) => !absent(value))) : null;
  }
  return { latencyMs: isObject(metrics) ? latency(metrics.latencyMs) : null, stopReason };
}
