// Values as people read them: dates, durations, counts, enum words and slugs. Dates are the API's ISO 8601
// UTC strings (null → "").
//
//   relativeTime(iso)  "just now", "5 minutes ago", "in 3 days"
//   exactTime(iso)     the full local date and time with its zone: put it in a title for hover
//   shortDate(iso)     "26 Nov 2026"
//   isPast(iso)        whether the moment has passed
//   daysBetween(a, b)  whole days from a to b (Dates or ISO strings)
//   duration(ms)       "840 ms", "1.29 s", "3 min 5 s", "2 h 10 min"; null for null/undefined/NaN
//   count(n)           a number with the locale's grouping ("1,204"); null for null/undefined
//   enumLabel(value)   an API enum as a word: "COMPLETED" → "Completed" ("" for none)
//   slugify(text)      a name as a slug: lowercase ASCII letters, digits and dashes, at most 64

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
const numbers = new Intl.NumberFormat();

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

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return null;
  if (ms < 1000) return `${numbers.format(Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function count(value) {
  return value === null || value === undefined ? null : numbers.format(value);
}

export function enumLabel(value) {
  return value ? value[0] + value.slice(1).toLowerCase() : "";
}

export function slugify(text) {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 64)
    .replace(/-+$/, "");
}
