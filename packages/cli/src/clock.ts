/**
 * The clock of the local commands. Normally the machine's; with `BEDROCK_SPEND_NOW` set to an
 * ISO 8601 instant (`2026-11-27T12:00:00Z`), the commands run as if the clock read that instant
 * when they started, and it runs at real speed from there. That replays history at its own time
 * (a budget set "in November" evaluates November, `spend` defaults to that month, generated
 * traffic carries those timestamps), and lets tests pin time for the processes they spawn.
 */
import { type Clock, clockStartingAt, parseInstant, systemClock } from "@bedrock-spend/core";
import { UsageError } from "./errors";

/** The environment variable that sets the local commands' clock. */
export const CLOCK_ENV = "BEDROCK_SPEND_NOW";

/** The clock `env` asks for: the machine's, or one starting at `BEDROCK_SPEND_NOW`. */
export function clockFromEnv(env: NodeJS.ProcessEnv = process.env): Clock {
  const text = env[CLOCK_ENV]?.trim();
  if (!text) return systemClock;
  if (parseInstant(text) === undefined)
    throw new UsageError(`${CLOCK_ENV} must be an ISO 8601 instant with a time zone, e.g. 2026-11-27T12:00:00Z; got "${text}"`);
  return clockStartingAt(text);
}
