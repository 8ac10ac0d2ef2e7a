/**
 * `birth_date` rules (shared/UPSTREAM.md §2): `YYYY-MM-DD`, a real calendar
 * date, at least 18 years before today in UTC. Someone born on 29 February
 * turns 18 on 1 March of a common year.
 */

const MINIMUM_AGE = 18;

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The date written as `YYYY-MM-DD`, or null when it is not a real date. */
export function parseCalendarDate(text: string): CalendarDate | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

const asNumber = (d: CalendarDate) => d.year * 10_000 + d.month * 100 + d.day;

/** True when a person born on `birth` is at least 18 on `today` (UTC). */
export function isAdult(birth: CalendarDate, today: Date): boolean {
  const cutoff = {
    year: today.getUTCFullYear() - MINIMUM_AGE,
    month: today.getUTCMonth() + 1,
    day: today.getUTCDate(),
  };
  return asNumber(birth) <= asNumber(cutoff);
}

/** The message for a bad `birth_date`, or null when it is fine. */
export function checkBirthDate(text: string, today: Date): string | null {
  const birth = parseCalendarDate(text);
  if (birth === null) return "The 'birth_date' must be a valid date in the format YYYY-MM-DD";
  if (!isAdult(birth, today)) return "The 'birth_date' must be at least 18 years ago";
  return null;
}
