// Dates as people read them. Every function takes the API's ISO 8601 UTC string (or null → "").
//
//   relativeTime(iso)  "just now", "5 minutes ago", "in 3 days"
//   exactTime(iso)     the full local date and time with its zone: put it in a title for hover
//   shortDate(iso)     "26 Nov 2026"
//   isPast(iso)        whether the moment has passed
//   daysBetween(a, b)  whole days from a to b (Dates or ISO strings)

const DAY = 86_400_000;
const UNITS = [
  ["year", 365 * DAY],
  ["month", 30 * DAY],
  ["week", 7 * DAY],
  ["day", DAY],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
const short = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

function toDate(value) {
  return value instanceof Date ? value : new Date(value);
}

export function relativeTime(iso) {
  if (!iso) return "";
  const delta = toDate(iso).getTime() - Date.now();
  if (Math.abs(delta) < 45_000) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) >= size) return relative.format(Math.round(delta / size), unit);
  }
  return relative.format(Math.round(delta / 60_000), "minute");
}

export function exactTime(iso) {
  return iso ? exact.format(toDate(iso)) : "";
}

export function shortDate(iso) {
  return iso ? short.format(toDate(iso)) : "";
}

export function isPast(iso) {
  return Boolean(iso) && toDate(iso).getTime() <= Date.now();
}

export function daysBetween(from, to) {
  return Math.floor((toDate(to).getTime() - toDate(from).getTime()) / DAY);
}
