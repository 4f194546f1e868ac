// Audit Log (OWNER and ADMIN; the router keeps the others out): filters by action, member, resource type
// and date range, kept in the address; entries newest first with before/after as a compact diff; Export
// downloads the NDJSON of exactly the filtered entries (GET /api/audit/export with the same query).

import { apiAll, apiFetch, fetchPage, responseError } from "../api.js";
import { loadMoreButton, timeText } from "../components.js";
import {
  button,
  clear,
  emptyState,
  errorSlot,
  faint,
  h,
  keepInAddress,
  loading,
  mount,
  pageHeader,
  select,
  table,
  uniqueId,
} from "../dom.js";

const PAGE_SIZE = 100;
const LONG_VALUE = 160;
const when = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const ACTIONS = {
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

const RESOURCE_TYPES = {
  agent: "Agent",
  api_key: "API key",
  invitation: "Invitation",
  session: "Session",
  trust_policy: "Trust policy",
  user: "User",
};

const FILTERS = ["action", "userId", "resourceType", "from", "to"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The API's query for the filters: whole local days, from the first to the last millisecond. */
export function auditQuery(filters) {
  const query = {};
  if (filters.action) query.action = filters.action;
  if (filters.userId) query.userId = filters.userId;
  if (filters.resourceType) query.resourceType = filters.resourceType;
  if (filters.from) query.from = new Date(`${filters.from}T00:00:00`).toISOString();
  if (filters.to) query.to = new Date(`${filters.to}T23:59:59.999`).toISOString();
  return query;
}

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

function download(text, filename) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function render(container, ctx) {
  const filters = {};
  for (const name of FILTERS) filters[name] = ctx.query.get(name) || "";
  for (const name of ["from", "to"]) if (!DATE.test(filters[name])) filters[name] = "";
  let loadCount = 0;

  const actionSelect = select(
    [{ value: "", label: "All actions" }, ...Object.entries(ACTIONS).map(([value, text]) => ({ value, label: text }))],
    { class: "compact", id: uniqueId("action"), value: filters.action, on: { change: () => apply({ action: actionSelect.value }) } },
  );
  if (filters.action && !(filters.action in ACTIONS)) {
    actionSelect.append(h("option", { value: filters.action }, filters.action));
    actionSelect.value = filters.action;
  }
  const memberSelect = select([{ value: "", label: "All members" }], {
    class: "compact",
    id: uniqueId("member"),
    on: { change: () => apply({ userId: memberSelect.value }) },
  });
  const typeSelect = select(
    [{ value: "", label: "All resources" }, ...Object.entries(RESOURCE_TYPES).map(([value, text]) => ({ value, label: text }))],
    { class: "compact", id: uniqueId("type"), value: filters.resourceType, on: { change: () => apply({ resourceType: typeSelect.value }) } },
  );
  const fromInput = h("input", { type: "date", id: uniqueId("from"), value: filters.from });
  const toInput = h("input", { type: "date", id: uniqueId("to"), value: filters.to });
  fromInput.addEventListener("change", () => apply({ from: fromInput.value }));
  toInput.addEventListener("change", () => apply({ to: toInput.value }));
  const clearButton = button("Clear filters", { kind: "ghost", class: "button-small", on: { click: clearFilters } });

  const exportButton = button("Export", { on: { click: exportEntries } });
  exportButton.setAttribute("aria-describedby", "export-hint");
  const exportStatus = h("span", { class: "copy-status", role: "status" });
  const exportError = errorSlot();

  const listError = errorSlot({ from: "From", to: "To", userId: "Member", resourceType: "Resource", action: "Action" });
  const listSlot = h("div", { class: "slot" }, loading("Loading the audit log…"));
  const moreSlot = h("div", { class: "slot load-more" });
  const note = h("p", { class: "list-note", role: "status" });

  const group = (text, control) => h("span", { class: "filter-group" }, h("label", { for: control.id }, text), control);

  mount(
    container,
    pageHeader("Audit Log", h("span", { class: "copy" }, exportStatus, exportButton)),
    h(
      "p",
      { class: "lede muted", id: "export-hint" },
      "Every change in your organization, newest first. Export downloads the entries these filters select, as NDJSON.",
    ),
    exportError.node,
    h(
      "section",
      { class: "section", "aria-label": "Audit entries" },
      h(
        "form",
        { class: "toolbar filters", role: "search", "aria-label": "Filter the audit log", on: { submit: (e) => e.preventDefault() } },
        group("Action", actionSelect),
        group("Member", memberSelect),
        group("Resource", typeSelect),
        group("From", fromInput),
        group("To", toInput),
        clearButton,
      ),
      listError.node,
      note,
      listSlot,
      moreSlot,
    ),
  );

  function filtered() {
    return FILTERS.some((name) => filters[name]);
  }

  function clearFilters() {
    actionSelect.value = "";
    memberSelect.value = "";
    typeSelect.value = "";
    fromInput.value = "";
    toInput.value = "";
    apply({ action: "", userId: "", resourceType: "", from: "", to: "" });
  }

  function apply(changes) {
    const before = JSON.stringify(filters);
    Object.assign(filters, changes);
    if (JSON.stringify(filters) === before) return;
    keepInAddress(filters);
    load();
  }

  function datesInOrder() {
    if (filters.from && filters.to && filters.from > filters.to) {
      listError.show({ status: 0, message: "From is after To: choose a From date on or before the To date." });
      return false;
    }
    return true;
  }

  function show(entries, next) {
    clearButton.hidden = !filtered();
    if (!entries.length) {
      note.textContent = "";
      listSlot.replaceChildren(
        filtered()
          ? emptyState("No entries match these filters.", button("Clear filters", { on: { click: clearFilters } }))
          : emptyState("No entries yet."),
      );
      moreSlot.replaceChildren();
      return;
    }
    note.textContent =
      !next && entries.length % PAGE_SIZE === 0
        ? `Showing the newest ${entries.length} entries. Narrow the filters, or Export to get every matching entry.`
        : entries.length === 1
          ? "1 entry."
          : `${entries.length} entries.`;
    const columns = [
      {
        label: "When",
        class: "audit-when",
        cell: (entry) => [
          timeText(entry.createdAt),
          h("div", { class: "sub" }, when.format(new Date(entry.createdAt))),
        ],
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
    const view = table(columns, entries, { caption: "Audit entries", rowProps: (entry) => ({ dataset: { entryId: entry.id } }) });
    view.querySelector("table").classList.add("audit-table");
    listSlot.replaceChildren(view);
    const id = loadCount;
    mount(
      clear(moreSlot),
      next
        ? loadMoreButton(next, {
            onPage: (page) => {
              if (id === loadCount && ctx.isCurrent()) show([...entries, ...page.items], page.next);
            },
            onError: listError.show,
          })
        : null,
    );
  }

  async function load() {
    loadCount += 1;
    const id = loadCount;
    listError.clear();
    exportError.clear();
    exportStatus.textContent = "";
    if (!datesInOrder()) {
      listSlot.replaceChildren();
      moreSlot.replaceChildren();
      note.textContent = "";
      return;
    }
    listSlot.setAttribute("aria-busy", "true");
    try {
      const page = await fetchPage("/audit", { ...auditQuery(filters), limit: PAGE_SIZE });
      if (id !== loadCount || !ctx.isCurrent()) return;
      show(page.items, page.next);
    } catch (err) {
      if (id !== loadCount || !ctx.isCurrent()) return;
      listSlot.replaceChildren();
      moreSlot.replaceChildren();
      note.textContent = "";
      listError.show(err);
    } finally {
      if (id === loadCount) listSlot.removeAttribute("aria-busy");
    }
  }

  async function exportEntries() {
    exportError.clear();
    if (!datesInOrder()) return;
    exportButton.disabled = true;
    exportStatus.textContent = "Exporting…";
    try {
      const response = await apiFetch("/audit/export", {
        query: auditQuery(filters),
        headers: { Accept: "application/x-ndjson" },
      });
      if (!response.ok) throw await responseError(response);
      const text = await response.text();
      if (!ctx.isCurrent()) return;
      const lines = text.split("\n").filter(Boolean).length;
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      download(text, `provenant-audit-${stamp}.ndjson`);
      exportStatus.textContent = lines === 1 ? "Exported 1 entry" : `Exported ${lines} entries`;
    } catch (err) {
      exportStatus.textContent = "";
      exportError.show(err);
    } finally {
      exportButton.disabled = false;
    }
  }

  clearButton.hidden = !filtered();
  try {
    const members = await apiAll("/org/members");
    if (!ctx.isCurrent()) return;
    mount(
      clear(memberSelect),
      h("option", { value: "" }, "All members"),
      members.map((member) => h("option", { value: member.id }, `${member.name} (${member.email})`)),
    );
    if (filters.userId && !members.some((member) => member.id === filters.userId)) {
      memberSelect.append(h("option", { value: filters.userId }, "A former member"));
    }
    memberSelect.value = filters.userId;
  } catch (err) {
    if (!ctx.isCurrent()) return;
    listError.show(err);
  }
  await load();
}
