// Sessions: the list (newest first; filters by agent, status and text kept in the address), and at
// /sessions/{id} one session's page (session.js).

import { apiAll } from "../api.js";
import { button, clear, h, mount, pageHeader, select, uniqueId } from "../dom.js";
import { enumLabel } from "../format.js";
import { pagedList } from "../paged-list.js";
import { renderSession } from "./session.js";
import { sdkEmptyState, sessionsTable } from "./sessions-table.js";

const STATUSES = ["ACTIVE", "COMPLETED", "FAILED"];
const PAGE_SIZE = 50;
const TYPING_PAUSE_MS = 350;

function filtersFrom(query) {
  return {
    agentId: query.get("agentId") || "",
    status: STATUSES.includes(query.get("status")) ? query.get("status") : "",
    q: query.get("q") || "",
  };
}

function filterControls(filters) {
  const agentSelect = select([{ value: "", label: "All agents" }], { class: "compact", id: uniqueId("agent-filter") });
  const statusSelect = select(
    [{ value: "", label: "Any status" }, ...STATUSES.map((value) => ({ value, label: enumLabel(value) }))],
    { class: "compact", id: uniqueId("status-filter"), value: filters.status },
  );
  const search = h("input", {
    type: "search",
    id: uniqueId("q"),
    name: "q",
    value: filters.q,
    maxlength: 200,
    placeholder: "Text in any turn",
    class: "search",
  });
  return { agentId: agentSelect, status: statusSelect, q: search };
}

/** The toolbar's form: the selects apply at once, the search once typing pauses or on Enter. */
function toolbar(list, controls) {
  const { agentId, status, q } = controls;
  let typing = null;
  const search = () => {
    clearTimeout(typing);
    list.apply({ q: q.value.trim() });
  };
  agentId.addEventListener("change", () => list.apply({ agentId: agentId.value }));
  status.addEventListener("change", () => list.apply({ status: status.value }));
  q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(search, TYPING_PAUSE_MS);
  });
  const submit = (event) => {
    event.preventDefault();
    search();
  };
  return h(
    "form",
    { class: "toolbar filters", role: "search", "aria-label": "Filter sessions", on: { submit } },
    h("label", { for: agentId.id }, "Agent"),
    agentId,
    h("label", { for: status.id }, "Status"),
    status,
    h("label", { for: q.id }, "Search"),
    q,
    button("Search", { type: "submit", class: "button-small" }),
    list.clearButton,
  );
}

/** The agents for the Agent filter (archived ones marked), and the one in the address if it is not among them. */
function fillAgents(agentSelect, agents, selected) {
  const choices = [...agents.values()].sort((a, b) => a.name.localeCompare(b.name));
  mount(
    clear(agentSelect),
    h("option", { value: "" }, "All agents"),
    choices.map((agent) =>
      h("option", { value: agent.id }, agent.status === "ARCHIVED" ? `${agent.name} (archived)` : agent.name),
    ),
  );
  if (selected && !agents.has(selected)) agentSelect.append(h("option", { value: selected }, "Unknown agent"));
  agentSelect.value = selected;
}

async function renderList(container, ctx) {
  const agents = new Map(); // id → agent, for the names in the table
  const filters = filtersFrom(ctx.query);
  const controls = filterControls(filters);
  const list = pagedList(ctx, {
    path: "/sessions",
    filters,
    controls,
    pageSize: PAGE_SIZE,
    view: (sessions) => sessionsTable(sessions, agents),
    empty: () => sdkEmptyState("No sessions yet — send one with the SDK"),
    emptyFiltered: "No sessions match these filters.",
    errorLabels: { q: "Search", agentId: "Agent", status: "Status" },
    loadingText: "Loading sessions…",
  });
  mount(
    container,
    pageHeader("Sessions"),
    h("p", { class: "lede muted" }, "Every conversation your agents send through the SDK, newest first."),
    h("section", { class: "section", "aria-label": "Sessions" }, toolbar(list, controls), list.parts),
  );
  try {
    for (const agent of await apiAll("/agents")) agents.set(agent.id, agent);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    list.errors.show(err);
  }
  fillAgents(controls.agentId, agents, list.state.filters.agentId);
  await list.load();
}

export async function render(container, ctx) {
  if (ctx.params.id) return renderSession(container, ctx);
  return renderList(container, ctx);
}
