// A key's requests per day on API Keys: a bar chart in its row, loaded a few keys at a time once the rows
// are on screen, each key once per page load.
//
//   usageState()             {days: id → days (or "failed"), slots: id → the cell of the row on screen}
//   usageCell(page, key)     the cell; filled when the key's days arrive
//   loadUsage(page, keys)    asks for the days of the keys not asked for yet

import { api } from "../api.js";
import { dailyBars } from "../charts.js";
import { h } from "../dom.js";
import { count } from "../format.js";

export const USAGE_DAYS = 30;
const REQUESTS_AT_ONCE = 4;

export function usageState() {
  return { days: new Map(), slots: new Map() };
}

function fill(page, key) {
  const slot = page.usage.slots.get(key.id);
  const days = page.usage.days.get(key.id);
  if (!slot || days === undefined) return;
  if (days === "failed") {
    slot.replaceChildren(h("span", { class: "faint", title: "Could not load this key's usage" }, "—"));
    return;
  }
  const total = days.reduce((sum, day) => sum + day.requests, 0);
  slot.replaceChildren(
    dailyBars(days, { label: `Requests per day of ${key.name}` }),
    h("span", { class: "usage-total", "aria-hidden": "true" }, count(total)),
  );
}

export function usageCell(page, key) {
  const slot = h("div", { class: "usage-chart" });
  page.usage.slots.set(key.id, slot);
  fill(page, key);
  return slot;
}

export async function loadUsage(page, keys) {
  const waiting = keys.filter((key) => !page.usage.days.has(key.id));
  async function worker() {
    while (waiting.length && page.ctx.isCurrent()) {
      const key = waiting.shift();
      try {
        const query = { days: USAGE_DAYS };
        page.usage.days.set(key.id, await api(`/org/keys/${encodeURIComponent(key.id)}/usage`, { query }));
      } catch {
        page.usage.days.set(key.id, "failed");
      }
      fill(page, key);
    }
  }
  await Promise.all(Array.from({ length: REQUESTS_AT_ONCE }, worker));
}
