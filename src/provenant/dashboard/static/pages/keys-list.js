// The list of API Keys: Active or All, by member for OWNER and ADMIN, each key with its access, rate limit,
// marks (due for rotation, rolled, never used, creator gone), its requests per day, and Roll and Revoke where
// the viewer may. Keys CI jobs hold are listed under Trusted CI instead.
//
//   keyStatus(key)          "Active", "Expired" or "Revoked"
//   renderToolbar(page), renderList(page)

import { dateText, statusBadge, timeText } from "../components.js";
import { button, emptyState, h, select, table, uniqueId } from "../dom.js";
import { daysBetween, exactTime, isPast, relativeTime } from "../format.js";
import { canRevokeKey, canRollKey } from "../roles.js";
import { roll, revoke } from "./keys-actions.js";
import { ACCESS_CHOICES } from "./keys-new.js";
import { USAGE_DAYS, loadUsage, usageCell } from "./keys-usage.js";

const DAY = 86_400_000;
const ROTATE_AFTER_DAYS = 90;

export function keyStatus(key) {
  if (key.revokedAt) return "Revoked";
  if (key.expiresAt && isPast(key.expiresAt)) return "Expired";
  return "Active";
}

function accessText(key) {
  return (ACCESS_CHOICES.find((choice) => choice.value === key.access) || ACCESS_CHOICES[0]).short;
}

function statusCell(key) {
  if (key.revokedReason === "leaked") {
    return [
      h("span", { class: "badge badge-revoked badge-leaked" }, "Revoked — found exposed"),
      h("div", { class: "sub nowrap" }, dateText(key.revokedAt, "")),
    ];
  }
  return statusBadge(keyStatus(key));
}

function creatorLeft(page, key) {
  return page.members !== null && !page.members.some((member) => member.id === key.user.id);
}

function marks(page, key) {
  const found = [];
  if (creatorLeft(page, key)) {
    found.push(h("span", { class: "mark mark-danger" }, "creator left the organization — the key no longer works"));
  }
  if (keyStatus(key) !== "Active") return found;
  const age = daysBetween(key.createdAt, new Date());
  if (age >= ROTATE_AFTER_DAYS && !key.rolledToId) {
    found.push(h("span", { class: "mark", title: `Created ${age} days ago` }, "due for rotation"));
  }
  if (key.rolledToId) {
    const until = h("time", { datetime: key.expiresAt, title: exactTime(key.expiresAt) }, relativeTime(key.expiresAt));
    found.push(h("span", { class: "mark mark-info" }, "rolled — stops working ", until));
  }
  if (!key.lastUsedAt && Date.now() - new Date(key.createdAt).getTime() > DAY) {
    found.push(h("span", { class: "mark" }, "never used — check its configuration"));
  }
  return found;
}

function showChoices(page) {
  const choose = (value) => {
    page.show = value;
    page.refresh();
  };
  return h(
    "div",
    { class: "segmented", role: "group", "aria-label": "Show" },
    [["active", "Active"], ["all", "All"]].map(([value, label]) =>
      h("button", { type: "button", "aria-pressed": String(page.show === value), on: { click: () => choose(value) } }, label),
    ),
  );
}

/** "Created by": the members, and the creators of listed keys who have left. */
function memberFilter(page) {
  const people = new Map();
  for (const member of page.members || []) people.set(member.id, member.name);
  for (const key of page.keys) if (!people.has(key.user.id)) people.set(key.user.id, `${key.user.name} (left)`);
  const id = uniqueId("member-filter");
  const change = (event) => {
    page.member = event.target.value;
    page.refresh();
  };
  const options = [{ value: "", label: "All members" }, ...[...people].map(([value, label]) => ({ value, label }))];
  return [h("label", { for: id }, "Created by"), select(options, { id, class: "compact", value: page.member, on: { change } })];
}

export function renderToolbar(page) {
  page.toolbar.replaceChildren(showChoices(page), ...(page.seeAll ? memberFilter(page) : []));
}

function visibleKeys(page) {
  return page.keys.filter(
    (key) =>
      !key.ephemeral && // CI jobs' keys are listed under Trusted CI
      (page.show === "all" || keyStatus(key) === "Active") &&
      (!page.member || key.user.id === page.member),
  );
}

function nameCell(page, key) {
  const found = marks(page, key);
  return [
    h("div", { class: "name" }, key.name),
    h("div", { class: ["sub", `access-${key.access}`] }, accessText(key)),
    key.rateLimitPerMinute
      ? h("div", { class: "sub rate-limit" }, `Up to ${key.rateLimitPerMinute.toLocaleString("en-US")} requests a minute`)
      : null,
    found.length ? h("div", { class: "marks" }, found) : null,
  ];
}

function actionsCell(page, key) {
  if (keyStatus(key) === "Revoked" || !canRevokeKey(page.me, key)) return null;
  const rollable = canRollKey(page.me, key) && keyStatus(key) === "Active" && !key.rolledToId;
  return h(
    "div",
    { class: "row-actions" },
    rollable
      ? button("Roll", { class: "button-small", "aria-label": `Roll ${key.name}`, on: { click: () => roll(page, key) } })
      : null,
    button("Revoke", {
      class: "button-small button-danger-text",
      "aria-label": `Revoke ${key.name}`,
      on: { click: () => revoke(page, key) },
    }),
  );
}

function columns(page) {
  return [
    { label: "Name", cell: (key) => nameCell(page, key) },
    { label: "Key", class: "nowrap", cell: (key) => h("code", {}, `pk_live_${key.keyPrefix}…`) },
    {
      label: "Created",
      cell: (key) => [
        h("div", { class: "nowrap" }, dateText(key.createdAt, "")),
        h("div", { class: "sub", title: key.user.email }, `by ${key.user.name}`),
      ],
    },
    { label: "Expires", class: "nowrap", cell: (key) => dateText(key.expiresAt, "Never") },
    { label: "Last used", class: "nowrap", cell: (key) => timeText(key.lastUsedAt, "Never") },
    { label: `Requests, ${USAGE_DAYS} days`, class: "usage", cell: (key) => usageCell(page, key) },
    { label: "Status", cell: statusCell },
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: (key) => actionsCell(page, key) },
  ];
}

function emptyList(page) {
  if (!page.keys.some((key) => !key.ephemeral)) {
    return emptyState("No keys yet — create one to use the SDK", page.newKeyButton());
  }
  return emptyState(
    page.show === "active"
      ? "No active keys here. Choose All to see revoked and expired keys."
      : "No keys match this filter.",
  );
}

export function renderList(page) {
  const keys = visibleKeys(page);
  page.usage.slots.clear();
  if (!keys.length) {
    page.listSlot.replaceChildren(emptyList(page));
    return;
  }
  const rowProps = (key) => ({ class: keyStatus(key) === "Active" ? null : "is-inactive", dataset: { keyId: key.id } });
  page.listSlot.replaceChildren(table(columns(page), keys, { caption: "API keys", rowProps }));
  loadUsage(page, keys);
}
