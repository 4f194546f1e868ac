// One session: its summary (status, agent, tokens, latency, times, ids, tags), its metadata and the
// conversation, its turns in order.

import { api } from "../api.js";
import { exactTimeText, keyValues, statusBadge, tagList } from "../components.js";
import { button, emptyState, errorMessage, faint, h, loading, mount, pageHeader } from "../dom.js";
import { count, duration } from "../format.js";
import { agentLink, sessionName } from "./sessions-table.js";
import { turnView } from "./session-turn.js";

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


function notFound(container) {
  container.replaceChildren();
  mount(
    container,
    pageHeader("Session not found"),
    emptyState(
      "There is no session at this address: it may have been deleted, or belong to another organization.",
      h("a", { href: "/sessions" }, "Go to Sessions"),
    ),
  );
}

/** The session and its agent (null when the agent cannot be read: the conversation reads without its name). */
async function loadSession(id) {
  const session = await api(`/sessions/${encodeURIComponent(id)}`);
  const agent = await api(`/agents/${encodeURIComponent(session.agentId)}`).catch(() => null);
  return { session, agent };
}

function conversation(session, turns) {
  return h(
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
  );
}

function sessionView(ctx, { session, agent }) {
  const turns = session.turns || [];
  const refresh =
    session.status === "ACTIVE"
      ? button("Refresh", { on: { click: () => ctx.navigate(location.pathname, { replace: true }) } })
      : null;
  const header = pageHeader(sessionName(session), refresh);
  header.querySelector("h1").prepend(h("span", { class: "visually-hidden" }, "Session: "));
  const metadata = session.metadata && Object.keys(session.metadata).length ? session.metadata : null;
  return mount(
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
    conversation(session, turns),
  );
}

export async function renderSession(container, ctx) {
  const slot = h("div", { class: "slot" }, loading("Loading the session…"));
  mount(container, h("a", { class: "back-link", href: "/sessions" }, "← Sessions"), slot);
  let found;
  try {
    found = await loadSession(ctx.params.id);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err.status === 404) notFound(container);
    else slot.replaceChildren(errorMessage(err));
    return;
  }
  if (!ctx.isCurrent()) return;
  document.title = `${sessionName(found.session)} · Sessions · Provenant`;
  slot.replaceWith(sessionView(ctx, found));
}
