// The Audit Log's entries as a table: when, what (in words and as the action's name) on which resource,
// by whom and how, and before/after as a compact diff.
//
//   ACTIONS, RESOURCE_TYPES   the API's names → words, for the filters too
//   entriesTable(entries)     the table
//   changesView(before, after)  changed fields old → new; a creation or removal as key: value

import { timeText } from "../components.js";
import { faint, h, table } from "../dom.js";

const LONG_VALUE = 160;
const when = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export const ACTIONS = {
  "auth.register": "Organization registered",
  "auth.login": "Signed in",
  "auth.login_failed": "Sign-in failed",
  "auth.logout": "Signed out",
  "auth.logout_all": "Signed out everywhere",
  "auth.password_changed": "Password changed",
  "apikey.create": "API key created",
  "apikey.revoke": "API key revoked",
  "apikey.roll": "API key rolled",
  "apikey.revoked_leaked": "Leaked API key revoked",
  "apikey.exchanged": "CI job's ID token exchanged for a key",
  "trust_policy.create": "Trust policy created",
  "trust_policy.delete": "Trust policy deleted",
  "agent.create": "Agent created",
  "agent.update": "Agent updated",
  "agent.archive": "Agent archived",
  "session.create": "Session started",
  "session.end": "Session ended",
  "session.delete": "Session deleted",
  "team.member.invited": "Member invited",
  "team.invitation.accepted": "Invitation accepted",
  "team.invitation.cancelled": "Invitation cancelled",
  "team.member.role_changed": "Role changed",
  "team.member.removed": "Member removed",
  "team.member.left": "Member left",
};

export const RESOURCE_TYPES = {
  agent: "Agent",
  api_key: "API key",
  invitation: "Invitation",
  session: "Session",
  trust_policy: "Trust policy",
  user: "User",
};

function valueText(value) {
  if (value === null || value === undefined) return { text: "empty", empty: true };
  if (typeof value === "string") return value === "" ? { text: "empty", empty: true } : { text: value };
  return { text: JSON.stringify(value) };
}

function valueNode(value, className) {
  const { text, empty } = valueText(value);
  const short = text.length > LONG_VALUE ? `${text.slice(0, LONG_VALUE)}…` : text;
  return h("span", { class: [className, empty && "faint"], title: short === text ? null : text }, short);
}

/** before/after as a compact diff: changed fields old → new; a creation or removal as key: value. */
export function changesView(before, after) {
  if (!before && !after) return faint("—");
  const rows = [];
  if (before && after) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const key of keys) {
      if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
      rows.push([key, [valueNode(before[key], "was"), h("span", { class: "arrow" }, " → "), valueNode(after[key], "now")]]);
    }
    if (!rows.length) return faint("No field changed");
  } else {
    const object = after || before;
    for (const [key, value] of Object.entries(object)) {
      // A creation lists what it was created with; fields it left empty say nothing.
      if (value === null || value === "" || (Array.isArray(value) && !value.length)) continue;
      rows.push([key, valueNode(value, after ? "now" : "removed")]);
    }
    if (!rows.length) return faint("—");
  }
  return h(
    "dl",
    { class: "diff", "aria-label": before && after ? "Changes" : after ? "Created with" : "Before" },
    rows.map(([key, value]) => h("div", { class: "diff-row" }, h("dt", {}, `${key}:`), " ", h("dd", {}, value))),
  );
}

function resourceCell(entry) {
  const type = RESOURCE_TYPES[entry.resourceType] || entry.resourceType;
  if (!entry.resourceId) return type;
  const id = entry.resourceId;
  const target =
    entry.resourceType === "agent" ? `/agents/${encodeURIComponent(id)}`
    : entry.resourceType === "session" ? `/sessions/${encodeURIComponent(id)}`
    : null;
  const shortId = id.length > 12 ? `${id.slice(0, 8)}…` : id;
  return [
    `${type} `,
    target ? h("a", { class: "mono", href: target, title: id }, shortId) : h("span", { class: "mono", title: id }, shortId),
  ];
}

function actorCell(entry) {
  const parts = [];
  if (entry.user) {
    parts.push(h("div", { class: "name" }, entry.user.name || entry.user.email || "A former member"));
    if (entry.user.email && entry.user.name) parts.push(h("div", { class: "sub" }, entry.user.email));
  } else {
    parts.push(faint("No one signed in"));
  }
  const how = [entry.apiKeyId ? "with an API key" : null, entry.ipAddress ? `from ${entry.ipAddress}` : null]
    .filter(Boolean)
    .join(" ");
  if (how) parts.push(h("div", { class: "sub", title: entry.userAgent || null }, how));
  return parts;
}

const COLUMNS = [
  {
    label: "When",
    class: "audit-when",
    cell: (entry) => [timeText(entry.createdAt), h("div", { class: "sub" }, when.format(new Date(entry.createdAt)))],
  },
  {
    label: "Action",
    class: "audit-action",
    cell: (entry) => [
      h("div", { class: "name" }, ACTIONS[entry.action] || entry.action),
      h("div", { class: "sub action-name" }, entry.action),
      h("div", { class: "resource" }, resourceCell(entry)),
    ],
  },
  { label: "By", class: "actor", cell: actorCell },
  { label: "Changes", class: "changes", cell: (entry) => changesView(entry.before, entry.after) },
];

export function entriesTable(entries) {
  const view = table(COLUMNS, entries, {
    caption: "Audit entries",
    rowProps: (entry) => ({ dataset: { entryId: entry.id } }),
  });
  view.querySelector("table").classList.add("audit-table");
  return view;
}
