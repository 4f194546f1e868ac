// What the Sessions list and an agent's page both show of sessions: a session's name, the sessions table,
// and the empty state that shows how to send a first session with the Python SDK.

import { statusBadge, timeText } from "../components.js";
import { copyButton, faint, h, table } from "../dom.js";
import { count, duration } from "../format.js";

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

export function agentLink(agent) {
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
