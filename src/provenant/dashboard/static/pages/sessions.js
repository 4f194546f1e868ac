// Sessions: the list (newest first; filters by agent, status and text kept in the address) and a
// session's page, the conversation: its turns in order, by role, with tool calls and JSON shown readably.
//
// Also exports what the Agents page shows of sessions (sessionName, sessionsTable, sdkSnippet,
// sdkEmptyState): they belong to sessions, so they live here.

import { api, apiAll, fetchPage } from "../api.js";
import {
  collapsible,
  exactTimeText,
  jsonBlock,
  keyValues,
  loadMoreButton,
  statusBadge,
  tagList,
  timeText,
} from "../components.js";
import {
  button,
  clear,
  copyButton,
  emptyState,
  errorMessage,
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
import { count, duration, enumLabel } from "../format.js";

const STATUSES = ["ACTIVE", "COMPLETED", "FAILED"];
const ROLES = ["USER", "ASSISTANT", "SYSTEM", "TOOL"];
const PAGE_SIZE = 50;

// ---- what the Agents page shows too -------------------------------------------------------------

export function sessionName(session) {
  return session.externalId || `Session ${session.id.slice(0, 8)}`;
}

export function sdkSnippet(agentName = "Support bot") {
  const quoted = JSON.stringify(agentName);
  return [
    "from provenant_sdk import ProvenantClient",
    "import os",
    "",
    "client = ProvenantClient(",
    '    base_url=os.environ["PROVENANT_URL"],',
    '    api_key=os.environ["PROVENANT_API_KEY"],',
    ")",
    `agent_id = client.get_or_create_agent(${quoted})`,
    "with client.session(agent_id) as session:",
    '    client.add_turn(session["id"], "USER", "Where is my order?")',
    '    client.add_turn(session["id"], "ASSISTANT", "It ships today.", latency_ms=840)',
  ].join("\n");
}

/** The empty state that shows how to send a first session with the Python SDK. */
export function sdkEmptyState(text, agentName) {
  const snippet = sdkSnippet(agentName);
  return h(
    "div",
    { class: "empty-state sdk-empty" },
    h("p", { class: "sdk-empty-title" }, text),
    h(
      "p",
      {},
      "Create a key in ",
      h("a", { href: "/keys" }, "API Keys"),
      ", set ",
      h("code", {}, "PROVENANT_URL"),
      " to ",
      h("code", {}, window.location.origin),
      " and ",
      h("code", {}, "PROVENANT_API_KEY"),
      " to the key, then run:",
    ),
    h("pre", { class: "code-block", tabindex: "0", "aria-label": "Python SDK example" }, h("code", {}, snippet)),
    h("div", { class: "sdk-empty-actions" }, copyButton(snippet, "Copy snippet")),
    h("p", { class: "hint" }, "The session appears here as soon as its first turn is stored."),
  );
}

function agentLink(agent) {
  return agent ? h("a", { href: `/agents/${encodeURIComponent(agent.id)}` }, agent.name) : faint("Unknown agent");
}

/** The sessions table; agents maps agent ids to agents (for names and links). */
export function sessionsTable(sessions, agents, { showAgent = true } = {}) {
  const columns = [
    {
      label: "Session",
      cell: (session) => [
        h("a", { class: "name", href: `/sessions/${encodeURIComponent(session.id)}` }, sessionName(session)),
        session.userId ? h("div", { class: "sub" }, `user ${session.userId}`) : null,
      ],
    },
    showAgent
      ? {
          label: "Agent",
          cell: (session) => agentLink(agents.get(session.agentId)),
        }
      : null,
    { label: "Status", cell: (session) => statusBadge(session.status) },
    { label: "Tokens", class: "numeric", cell: (session) => count(session.totalTokens) ?? faint("—") },
    {
      label: "Latency",
      class: "numeric nowrap",
      cell: (session) => duration(session.totalLatencyMs) ?? faint("—"),
    },
    { label: "Started", class: "nowrap", cell: (session) => timeText(session.startedAt) },
    {
      label: "Ended",
      class: "nowrap",
      cell: (session) => (session.endedAt ? timeText(session.endedAt) : faint("Running")),
    },
  ].filter(Boolean);
  return table(columns, sessions, {
    caption: "Sessions",
    rowProps: (session) => ({ dataset: { sessionId: session.id } }),
  });
}

// ---- readable content ---------------------------------------------------------------------------

function parsedJson(text) {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

function isTextPart(part) {
  return part && typeof part === "object" && part.type === "text" && typeof part.text === "string";
}

/** A turn's content: text as text, JSON text and objects pretty-printed, chat "parts" as their text. */
function contentView(content) {
  if (typeof content === "string") {
    const json = parsedJson(content);
    return json === undefined ? collapsible(content, { className: "is-text" }) : jsonBlock(json);
  }
  if (Array.isArray(content) && content.length && content.every(isTextPart)) {
    return collapsible(content.map((part) => part.text).join("\n\n"), { className: "is-text" });
  }
  return jsonBlock(content);
}

function toolCallView(call) {
  if (!call || typeof call !== "object" || Array.isArray(call)) return jsonBlock(call);
  const fn = call.function && typeof call.function === "object" ? call.function : {};
  const name = fn.name ?? call.name ?? call.tool ?? null;
  let args = fn.arguments ?? call.arguments ?? call.input ?? call.args ?? call.parameters;
  if (typeof args === "string") {
    const json = parsedJson(args);
    if (json !== undefined) args = json;
  }
  if (typeof name !== "string") return jsonBlock(call);
  return h(
    "li",
    { class: "tool-call" },
    h(
      "div",
      { class: "tool-call-head" },
      h("span", { class: "tool-name" }, name),
      typeof call.id === "string" ? h("span", { class: "faint mono" }, call.id) : null,
    ),
    args === undefined ? null : typeof args === "string" ? collapsible(args) : jsonBlock(args),
  );
}

function toolCallsView(toolCalls) {
  const calls = Array.isArray(toolCalls) ? toolCalls : [toolCalls];
  return h(
    "div",
    { class: "tool-calls" },
    h("p", { class: "turn-section-title" }, calls.length === 1 ? "Tool call" : `${calls.length} tool calls`),
    h("ul", { class: "tool-call-list" }, calls.map((call) => {
      const view = toolCallView(call);
      return view.tagName === "LI" ? view : h("li", { class: "tool-call" }, view);
    })),
  );
}

// ---- the list -----------------------------------------------------------------------------------

async function renderList(container, ctx) {
  const filters = {
    agentId: ctx.query.get("agentId") || "",
    status: STATUSES.includes(ctx.query.get("status")) ? ctx.query.get("status") : "",
    q: ctx.query.get("q") || "",
  };
  let agents = new Map();
  let loadCount = 0;

  const agentSelect = select([{ value: "", label: "All agents" }], {
    class: "compact",
    id: uniqueId("agent-filter"),
    on: { change: () => apply({ agentId: agentSelect.value }) },
  });
  const statusSelect = select(
    [{ value: "", label: "Any status" }, ...STATUSES.map((value) => ({ value, label: enumLabel(value) }))],
    { class: "compact", id: uniqueId("status-filter"), value: filters.status, on: { change: () => apply({ status: statusSelect.value }) } },
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
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => apply({ q: search.value.trim() }), 350);
  });
  const clearButton = button("Clear filters", { kind: "ghost", class: "button-small", on: { click: clearFilters } });
  const toolbar = h(
    "form",
    {
      class: "toolbar filters",
      role: "search",
      "aria-label": "Filter sessions",
      on: {
        submit: (event) => {
          event.preventDefault();
          clearTimeout(typing);
          apply({ q: search.value.trim() });
        },
      },
    },
    h("label", { for: agentSelect.id }, "Agent"),
    agentSelect,
    h("label", { for: statusSelect.id }, "Status"),
    statusSelect,
    h("label", { for: search.id }, "Search"),
    search,
    button("Search", { type: "submit", class: "button-small" }),
    clearButton,
  );
  const listError = errorSlot({ q: "Search", agentId: "Agent", status: "Status" });
  const listSlot = h("div", { class: "slot" }, loading("Loading sessions…"));
  const moreSlot = h("div", { class: "slot load-more" });

  mount(
    container,
    pageHeader("Sessions"),
    h("p", { class: "lede muted" }, "Every conversation your agents send through the SDK, newest first."),
    h("section", { class: "section", "aria-label": "Sessions" }, toolbar, listError.node, listSlot, moreSlot),
  );

  function filtered() {
    return Boolean(filters.agentId || filters.status || filters.q);
  }

  function clearFilters() {
    search.value = "";
    agentSelect.value = "";
    statusSelect.value = "";
    apply({ agentId: "", status: "", q: "" });
  }

  function apply(changes) {
    const before = JSON.stringify(filters);
    Object.assign(filters, changes);
    if (JSON.stringify(filters) === before) return;
    keepInAddress(filters);
    load();
  }

  function renderAgents() {
    const choices = [...agents.values()].sort((a, b) => a.name.localeCompare(b.name));
    mount(
      clear(agentSelect),
      h("option", { value: "" }, "All agents"),
      choices.map((agent) =>
        h("option", { value: agent.id }, agent.status === "ARCHIVED" ? `${agent.name} (archived)` : agent.name),
      ),
    );
    if (filters.agentId && !agents.has(filters.agentId)) {
      agentSelect.append(h("option", { value: filters.agentId }, "Unknown agent"));
    }
    agentSelect.value = filters.agentId;
  }

  function show(sessions, next) {
    clearButton.hidden = !filtered();
    if (!sessions.length) {
      listSlot.replaceChildren(
        filtered()
          ? emptyState("No sessions match these filters.", button("Clear filters", { on: { click: clearFilters } }))
          : sdkEmptyState("No sessions yet — send one with the SDK"),
      );
      moreSlot.replaceChildren();
      return;
    }
    listSlot.replaceChildren(sessionsTable(sessions, agents));
    showMore(sessions, next);
  }

  function showMore(sessions, next) {
    const id = loadCount;
    mount(
      clear(moreSlot),
      next
        ? loadMoreButton(next, {
            onPage: (page) => {
              if (id === loadCount && ctx.isCurrent()) show([...sessions, ...page.items], page.next);
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
    listSlot.setAttribute("aria-busy", "true");
    try {
      const page = await fetchPage("/sessions", { ...filters, limit: PAGE_SIZE });
      if (id !== loadCount || !ctx.isCurrent()) return;
      show(page.items, page.next);
    } catch (err) {
      if (id !== loadCount || !ctx.isCurrent()) return;
      listSlot.replaceChildren();
      moreSlot.replaceChildren();
      listError.show(err);
    } finally {
      if (id === loadCount) listSlot.removeAttribute("aria-busy");
    }
  }

  clearButton.hidden = !filtered();
  try {
    agents = new Map((await apiAll("/agents")).map((agent) => [agent.id, agent]));
  } catch (err) {
    if (!ctx.isCurrent()) return;
    listError.show(err);
  }
  renderAgents();
  await load();
}

// ---- one session: the conversation --------------------------------------------------------------

function turnStats(turn) {
  const given = (value) => value !== null && value !== undefined;
  const parts = [];
  if (given(turn.inputTokens)) parts.push(`${count(turn.inputTokens)} tokens in`);
  if (given(turn.outputTokens)) parts.push(`${count(turn.outputTokens)} tokens out`);
  const stats = [];
  if (parts.length) stats.push(h("span", { class: "stat", title: "Tokens" }, parts.join(" · ")));
  if (given(turn.latencyMs)) {
    stats.push(h("span", { class: "stat", title: "Latency" }, duration(turn.latencyMs)));
  }
  return stats;
}

function turnView(turn, index) {
  const role = ROLES.includes(turn.role) ? turn.role : "OTHER";
  const hasToolCalls = turn.toolCalls !== null && turn.toolCalls !== undefined &&
    !(Array.isArray(turn.toolCalls) && !turn.toolCalls.length);
  const metadata = turn.metadata && Object.keys(turn.metadata).length ? turn.metadata : null;
  return h(
    "li",
    { class: ["turn", `turn-${role.toLowerCase()}`], dataset: { role: turn.role, turnId: turn.id } },
    h(
      "div",
      { class: "turn-head" },
      h("span", { class: "turn-role" }, enumLabel(turn.role)),
      h("span", { class: "turn-index faint" }, `#${index + 1}`),
      h("span", { class: "turn-stats" }, turnStats(turn)),
      h("span", { class: "turn-time" }, timeText(turn.createdAt, "")),
    ),
    h("div", { class: "turn-content" }, contentView(turn.content)),
    hasToolCalls ? toolCallsView(turn.toolCalls) : null,
    metadata
      ? h("div", { class: "turn-meta" }, h("p", { class: "turn-section-title" }, "Metadata"), keyValues(metadata))
      : null,
  );
}

function sum(turns, field) {
  const values = turns.map((turn) => turn[field]).filter((value) => typeof value === "number");
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

function summary(session, agent, turns) {
  const input = sum(turns, "inputTokens");
  const output = sum(turns, "outputTokens");
  const tokens = session.totalTokens ?? (input === null && output === null ? null : (input || 0) + (output || 0));
  const latency = session.totalLatencyMs ?? sum(turns, "latencyMs");
  const ended = session.endedAt ? new Date(session.endedAt).getTime() - new Date(session.startedAt).getTime() : null;
  const tokenDetail = input !== null || output !== null ? ` (${count(input || 0)} in · ${count(output || 0)} out)` : "";
  const rows = [
    ["Status", statusBadge(session.status)],
    ["Agent", agentLink(agent)],
    ["Turns", count(turns.length)],
    ["Tokens", tokens === null ? faint("—") : `${count(tokens)}${tokenDetail}`],
    ["Latency", duration(latency) ?? faint("—")],
    ["Started", exactTimeText(session.startedAt)],
    [
      "Ended",
      session.endedAt
        ? [
            exactTimeText(session.endedAt),
            ended !== null ? h("div", { class: "faint" }, `after ${duration(ended)}`) : null,
          ]
        : faint("Still running"),
    ],
    session.externalId ? ["External ID", h("code", {}, session.externalId)] : null,
    session.userId ? ["User ID", h("code", {}, session.userId)] : null,
    session.environmentId ? ["Environment", h("code", {}, session.environmentId)] : null,
    session.agentVersionId ? ["Agent version", h("code", {}, session.agentVersionId)] : null,
    session.tags && session.tags.length ? ["Tags", tagList(session.tags)] : null,
  ].filter(Boolean);
  return h(
    "dl",
    { class: "summary" },
    rows.map(([term, value]) => h("div", { class: "summary-item" }, h("dt", {}, term), h("dd", {}, value))),
  );
}

function notFound(container, title, text, href, linkText) {
  mount(container, pageHeader(title), emptyState(text, h("a", { href }, linkText)));
}

async function renderSession(container, ctx) {
  const id = ctx.params.id;
  const slot = h("div", { class: "slot" }, loading("Loading the session…"));
  mount(container, h("a", { class: "back-link", href: "/sessions" }, "← Sessions"), slot);

  let session;
  try {
    session = await api(`/sessions/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err.status === 404) {
      container.replaceChildren();
      notFound(
        container,
        "Session not found",
        "There is no session at this address: it may have been deleted, or belong to another organization.",
        "/sessions",
        "Go to Sessions",
      );
      return;
    }
    slot.replaceChildren(errorMessage(err));
    return;
  }
  let agent = null;
  try {
    agent = await api(`/agents/${encodeURIComponent(session.agentId)}`);
  } catch {
    // The conversation reads without the agent's name.
  }
  if (!ctx.isCurrent()) return;
  document.title = `${sessionName(session)} · Sessions · Provenant`;

  const turns = session.turns || [];
  const refresh =
    session.status === "ACTIVE"
      ? button("Refresh", { on: { click: () => ctx.navigate(location.pathname, { replace: true }) } })
      : null;
  const header = pageHeader(sessionName(session), refresh);
  header.querySelector("h1").prepend(h("span", { class: "visually-hidden" }, "Session: "));
  const metadata = session.metadata && Object.keys(session.metadata).length ? session.metadata : null;

  slot.replaceWith(mount(
    document.createDocumentFragment(),
    header,
    h("p", { class: "lede muted mono session-id" }, session.id),
    h("section", { class: "card", "aria-label": "Summary" }, summary(session, agent, turns)),
    metadata
      ? h(
          "section",
          { class: "section", "aria-labelledby": "session-metadata" },
          h("h2", { id: "session-metadata" }, "Metadata"),
          h("div", { class: "card" }, keyValues(metadata)),
        )
      : null,
    h(
      "section",
      { class: "section", "aria-labelledby": "conversation-title" },
      h(
        "div",
        { class: "section-header" },
        h("h2", { id: "conversation-title" }, "Conversation"),
        h("span", { class: "muted" }, turns.length === 1 ? "1 turn" : `${count(turns.length)} turns`),
      ),
      turns.length
        ? h("ol", { class: "conversation" }, turns.map(turnView))
        : emptyState(
            session.status === "ACTIVE"
              ? "No turns yet. They appear here as the SDK sends them (Refresh to see new ones)."
              : "This session ended without any turns.",
          ),
    ),
  ));
}

export async function render(container, ctx) {
  if (ctx.params.id) return renderSession(container, ctx);
  return renderList(container, ctx);
}
