// How API values look on the data pages (Agents, Sessions, Audit Log, API Keys, Team): statuses, tags,
// times, long text and JSON, key/value lists, and the Load more of a list read page by page. Built with
// dom.js's h(), as text only.
//
//   statusBadge(status)         a badge for an API status ("ACTIVE", "FAILED", or "Revoked"), coloured by
//                               its class badge-<status in lowercase>.
//   tagList(tags)               tags as a list of pills.
//   timeText(iso, empty?)       a <time>: relative ("5 minutes ago"), the exact time on hover; faint empty
//                               text ("—" unless given) when iso is null.
//   dateText(iso, empty?)       the same with the short date ("26 Nov 2026").
//   exactTimeText(iso)          the exact local date and time, the relative one on hover.
//   collapsible(text, {json, className})  a <pre>, collapsed behind a "Show all N lines" toggle when long.
//   jsonBlock(value)            a value as pretty-printed JSON, collapsible.
//   keyValues(object, className?)  an object as a <dl> of key: value (nested values as compact JSON).
//   loadMoreButton(next, {onPage, onError})  "Load more": fetches the page at the URL next (api.js
//                               fetchPage) and passes it to onPage; onError(err) if that fails, the
//                               button enabled again.

import { fetchPage } from "./api.js";
import { button, faint, h, uniqueId } from "./dom.js";
import { count, enumLabel, exactTime, relativeTime, shortDate } from "./format.js";

// A block longer than this starts collapsed, with a toggle.
const COLLAPSE_LINES = 14;
const COLLAPSE_CHARS = 1500;

export function statusBadge(status) {
  return h("span", { class: ["badge", `badge-${String(status).toLowerCase()}`] }, enumLabel(status));
}

export function tagList(tags) {
  return h("ul", { class: "tags", "aria-label": "Tags" }, tags.map((tag) => h("li", { class: "tag" }, tag)));
}

export function timeText(iso, empty = "—") {
  if (!iso) return faint(empty);
  return h("time", { datetime: iso, title: exactTime(iso) }, relativeTime(iso));
}

export function dateText(iso, empty = "—") {
  if (!iso) return faint(empty);
  return h("time", { datetime: iso, title: exactTime(iso) }, shortDate(iso));
}

export function exactTimeText(iso) {
  return h("time", { datetime: iso, title: relativeTime(iso) }, exactTime(iso));
}

export function collapsible(text, { json = false, className = "" } = {}) {
  const lines = text.split("\n").length;
  const pre = h("pre", { class: ["content-block", json && "is-json", className], id: uniqueId("block") }, text);
  if (lines <= COLLAPSE_LINES && text.length <= COLLAPSE_CHARS) return pre;
  pre.classList.add("is-collapsed");
  pre.tabIndex = 0;
  const more = lines > COLLAPSE_LINES ? `Show all ${count(lines)} lines` : "Show all";
  const toggle = button(more, {
    class: "button-small button-ghost toggle",
    "aria-expanded": "false",
    "aria-controls": pre.id,
    on: {
      click: () => {
        const open = pre.classList.toggle("is-collapsed") === false;
        toggle.setAttribute("aria-expanded", String(open));
        toggle.textContent = open ? "Show less" : more;
      },
    },
  });
  return h("div", { class: "collapsible" }, pre, toggle);
}

export function jsonBlock(value) {
  return collapsible(JSON.stringify(value, null, 2), { json: true });
}

function scalarText(value) {
  if (value === null) return "null";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export function keyValues(object, className = "kv") {
  return h(
    "dl",
    { class: className },
    Object.entries(object).map(([key, value]) => [
      h("dt", {}, key),
      h("dd", {}, typeof value === "object" && value !== null ? h("code", {}, scalarText(value)) : scalarText(value)),
    ]),
  );
}

export function loadMoreButton(next, { onPage, onError }) {
  const more = button("Load more", {
    on: {
      click: async () => {
        more.disabled = true;
        try {
          onPage(await fetchPage(next));
        } catch (err) {
          more.disabled = false;
          onError(err);
        }
      },
    },
  });
  return more;
}
