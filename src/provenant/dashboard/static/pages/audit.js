// Audit Log (OWNER and ADMIN; the router keeps the others out): filters by action, member, resource type
// and date range, kept in the address; entries newest first with before/after as a compact diff
// (audit-entries.js); Export downloads the NDJSON of exactly the filtered entries (GET /api/audit/export
// with the same query).

import { apiAll, apiFetch, responseError } from "../api.js";
import { button, clear, emptyState, errorSlot, h, mount, pageHeader, select, uniqueId } from "../dom.js";
import { pagedList } from "../paged-list.js";
import { ACTIONS, RESOURCE_TYPES, entriesTable } from "./audit-entries.js";

const PAGE_SIZE = 100;
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

function datesOutOfOrder(filters) {
  return filters.from && filters.to && filters.from > filters.to
    ? "From is after To: choose a From date on or before the To date."
    : null;
}

function filtersFrom(query) {
  const filters = {};
  for (const name of FILTERS) filters[name] = query.get(name) || "";
  for (const name of ["from", "to"]) if (!DATE.test(filters[name])) filters[name] = "";
  return filters;
}

function noteText(entries, next) {
  if (!next && entries.length % PAGE_SIZE === 0) {
    return `Showing the newest ${entries.length} entries. Narrow the filters, or Export to get every matching entry.`;
  }
  return entries.length === 1 ? "1 entry." : `${entries.length} entries.`;
}

function choices(all, words) {
  return [{ value: "", label: all }, ...Object.entries(words).map(([value, label]) => ({ value, label }))];
}

function filterControls(filters) {
  const action = select(choices("All actions", ACTIONS), { class: "compact", id: uniqueId("action"), value: filters.action });
  if (filters.action && !(filters.action in ACTIONS)) {
    action.append(h("option", { value: filters.action }, filters.action));
    action.value = filters.action;
  }
  return {
    action,
    userId: select([{ value: "", label: "All members" }], { class: "compact", id: uniqueId("member") }),
    resourceType: select(choices("All resources", RESOURCE_TYPES), {
      class: "compact",
      id: uniqueId("type"),
      value: filters.resourceType,
    }),
    from: h("input", { type: "date", id: uniqueId("from"), value: filters.from }),
    to: h("input", { type: "date", id: uniqueId("to"), value: filters.to }),
  };
}

function toolbar(list, controls) {
  const labels = { action: "Action", userId: "Member", resourceType: "Resource", from: "From", to: "To" };
  const groups = Object.entries(controls).map(([name, control]) => {
    control.addEventListener("change", () => list.apply({ [name]: control.value }));
    return h("span", { class: "filter-group" }, h("label", { for: control.id }, labels[name]), control);
  });
  return h(
    "form",
    { class: "toolbar filters", role: "search", "aria-label": "Filter the audit log", on: { submit: (e) => e.preventDefault() } },
    groups,
    list.clearButton,
  );
}

/** The members for the Member filter, and "A former member" for one in the address who is not among them. */
async function fillMembers(memberSelect, selected) {
  const members = await apiAll("/org/members");
  mount(
    clear(memberSelect),
    h("option", { value: "" }, "All members"),
    members.map((member) => h("option", { value: member.id }, `${member.name} (${member.email})`)),
  );
  if (selected && !members.some((member) => member.id === selected)) {
    memberSelect.append(h("option", { value: selected }, "A former member"));
  }
  memberSelect.value = selected;
}

function download(text, filename) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Export: the NDJSON of the entries the list's filters select, with its status line and error slot. */
function exporter(ctx, list) {
  const status = h("span", { class: "copy-status", role: "status" });
  const errors = errorSlot();
  const control = button("Export", { "aria-describedby": "export-hint", on: { click: run } });

  async function run() {
    errors.clear();
    const problem = datesOutOfOrder(list.state.filters);
    if (problem) return list.errors.show({ status: 0, message: problem });
    control.disabled = true;
    status.textContent = "Exporting…";
    try {
      const query = auditQuery(list.state.filters);
      const response = await apiFetch("/audit/export", { query, headers: { Accept: "application/x-ndjson" } });
      if (!response.ok) throw await responseError(response);
      const text = await response.text();
      if (!ctx.isCurrent()) return;
      const lines = text.split("\n").filter(Boolean).length;
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      download(text, `provenant-audit-${stamp}.ndjson`);
      status.textContent = lines === 1 ? "Exported 1 entry" : `Exported ${lines} entries`;
    } catch (err) {
      status.textContent = "";
      errors.show(err);
    } finally {
      control.disabled = false;
    }
  }

  const reset = () => {
    errors.clear();
    status.textContent = "";
  };
  return { node: h("span", { class: "copy" }, status, control), errors, reset };
}

export async function render(container, ctx) {
  const filters = filtersFrom(ctx.query);
  const controls = filterControls(filters);
  let exports = null;
  const list = pagedList(ctx, {
    path: "/audit",
    filters,
    controls,
    pageSize: PAGE_SIZE,
    query: auditQuery,
    problem: datesOutOfOrder,
    view: entriesTable,
    empty: () => emptyState("No entries yet."),
    emptyFiltered: "No entries match these filters.",
    note: noteText,
    before: () => exports.reset(),
    errorLabels: { from: "From", to: "To", userId: "Member", resourceType: "Resource", action: "Action" },
    loadingText: "Loading the audit log…",
  });
  exports = exporter(ctx, list);
  mount(
    container,
    pageHeader("Audit Log", exports.node),
    h(
      "p",
      { class: "lede muted", id: "export-hint" },
      "Every change in your organization, newest first. Export downloads the entries these filters select, as NDJSON.",
    ),
    exports.errors.node,
    h("section", { class: "section", "aria-label": "Audit entries" }, toolbar(list, controls), list.parts),
  );
  try {
    await fillMembers(controls.userId, list.state.filters.userId);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    list.errors.show(err);
  }
  await list.load();
}
