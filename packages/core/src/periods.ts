/**
 * Calendar periods: months and days in UTC, part of every aggregate key (no reset jobs: a new
 * month is a new key).
 */

/** Calendar month `YYYY-MM` (UTC). */
export type MonthKey = string;
/** Calendar day `YYYY-MM-DD` (UTC). */
export type DayKey = string;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Whether `text` is a `YYYY-MM` month. */
export function isMonthKey(text: string): boolean {
  return MONTH.test(text);
}

/** Whether `text` is a real `YYYY-MM-DD` calendar day. */
export function isDayKey(text: string): boolean {
  if (!DAY.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().startsWith(text);
}

/** The UTC calendar month `YYYY-MM` of an instant (epoch ms). */
export function utcMonthOf(epochMillis: number): MonthKey {
  return new Date(epochMillis).toISOString().slice(0, 7);
}

/** The UTC calendar day `YYYY-MM-DD` of an instant (epoch ms). */
export function utcDayOf(epochMillis: number): DayKey {
  return new Date(epochMillis).toISOString().slice(0, 10);
}

/** Start (inclusive) and end (exclusive) of a `YYYY-MM` month, epoch ms (UTC). */
export function monthBounds(month: MonthKey): { start: number; end: number } {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  return { start: Date.UTC(year, monthNumber - 1, 1), end: Date.UTC(year, monthNumber, 1) };
}

/** The UTC day after `day`. */
export function nextUtcDay(day: DayKey): DayKey {
  return utcDayOf(Date.parse(`${day}T00:00:00Z`) + 86_400_000);
}

/** The UTC days `from`..`to`, both included (none when `from` is after `to`). */
export function utcDaysBetween(from: DayKey, to: DayKey): DayKey[] {
  const days: DayKey[] = [];
  for (let day = from; day <= to; day = nextUtcDay(day)) days.push(day);
  return days;
}
