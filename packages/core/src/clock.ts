/**
 * Time as a dependency. Everything that asks "what time is it" (the default month of a spend
 * query, the month a budget change is evaluated in, forecasts, "today" on the dashboard, TTLs)
 * takes a `Clock`, so that tests pin it to a chosen instant and replays run at a chosen time.
 *
 * Periods are calendar months and days in UTC (`periods.ts`): nothing here looks at a local time zone.
 */

/** The current time in epoch milliseconds, like `Date.now`. */
export type Clock = () => number;

/** The machine's clock. */
export const systemClock: Clock = () => Date.now();

/**
 * Epoch milliseconds of an ISO 8601 instant with a time zone (`2026-11-27T10:00:00Z`,
 * `2026-11-27T11:00:00+01:00`); undefined for anything else, including a date without a time or
 * a time without a zone (which `Date.parse` would read in the machine's zone).
 */
export function parseInstant(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return undefined;
  const time = Date.parse(text);
  if (Number.isNaN(time)) return undefined;
  // Date.parse rolls 2026-02-30 over to March: refuse dates that do not exist.
  const [date] = text.split("T") as [string];
  const shifted = new Date(time + offsetMillis(text)).toISOString();
  return shifted.startsWith(date) ? time : undefined;
}

/** The zone offset written in an ISO instant, ms east of UTC. */
function offsetMillis(text: string): number {
  const zone = /([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!zone) return 0;
  const minutes = Number(zone[2]) * 60 + Number(zone[3]);
  return (zone[1] === "-" ? -1 : 1) * minutes * 60_000;
}

function instantOf(instant: number | string | Date): number {
  if (typeof instant === "number") return instant;
  if (instant instanceof Date) return instant.getTime();
  const time = parseInstant(instant);
  if (time === undefined) throw new RangeError(`not an ISO 8601 instant with a time zone: "${instant}"`);
  return time;
}

/** A clock stopped at `instant` (epoch ms, a Date, or an ISO 8601 instant with a zone). */
export function fixedClock(instant: number | string | Date): Clock {
  const time = instantOf(instant);
  return () => time;
}

/**
 * A clock that reads `instant` now and runs at real speed from there: elapsed time is measured
 * with `elapsed` (default `performance.now`, monotonic), so that timeouts, rates and leases behave
 * as on the machine's clock while dates are those of the chosen instant.
 */
export function clockStartingAt(instant: number | string | Date, elapsed: () => number = () => performance.now()): Clock {
  const start = instantOf(instant);
  const origin = elapsed();
  return () => start + Math.floor(elapsed() - origin);
}
