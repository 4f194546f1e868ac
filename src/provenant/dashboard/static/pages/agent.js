// One agent: its details (status, model family, tags, who created it, when, its description), Archive where
// the role allows, and its recent sessions.

import { api, fetchPage } from "../api.js";
import { exactTimeText, statusBadge, tagList, timeText } from "../components.js";
import { button, emptyState, errorMessage, errorSlot, faint, h, loading, mount, pageHeader } from "../dom.js";
import { canDeleteItem } from "../roles.js";
import { archive, creatorName, loadMembers } from "./agent-parts.js";
import { sdkEmptyState, sessionsTable } from "./sessions-table.js";

const RECENT_SESSIONS = 10;

function notFound(container) {
  container.replaceChildren();
  mount(
    container,
    pageHeader("Agent not found"),
    emptyState(
      "There is no agent at this address: it may belong to another organization.",
      h("a", { href: "/agents" }, "Go to Agents"),
    ),
  );
}

function details(agent, members, me) {
  const rows = [
    ["Status", statusBadge(agent.status)],
    ["Model family", agent.modelFamily || faint("—")],
    ["Tags", agent.tags.length ? tagList(agent.tags) : faint("None")],
    ["Created by", creatorName(members, agent, me)],
    ["Created", exactTimeText(agent.createdAt)],
    ["Updated", timeText(agent.updatedAt)],
    ["Description", agent.description ? h("p", { class: "description" }, agent.description) : faint("No description."), true],
  ];
  return h(
    "section",
    { class: "card", "aria-label": "Details" },
    h(
      "dl",
      { class: "summary" },
      rows.map(([term, value, wide]) =>
        h("div", { class: ["summary-item", wide && "summary-wide"] }, h("dt", {}, term), h("dd", {}, value)),
      ),
    ),
  );
}

function header(ctx, agent, actionError) {
  const archiveButton =
    agent.status === "ACTIVE" && canDeleteItem(ctx.me, agent)
      ? button("Archive", {
          class: "button-danger-text",
          on: {
            click: async () => {
              actionError.clear();
              if (await archive(agent, actionError.show)) await ctx.navigate(location.pathname, { replace: true });
            },
          },
        })
      : null;
  const node = pageHeader(agent.name, archiveButton);
  node.querySelector("h1").prepend(h("span", { class: "visually-hidden" }, "Agent: "));
  return node;
}

async function showRecentSessions(ctx, agent, slot, allLink) {
  try {
    const { items } = await fetchPage("/sessions", { agentId: agent.id, limit: RECENT_SESSIONS });
    if (!ctx.isCurrent()) return;
    allLink.hidden = !items.length;
    slot.replaceChildren(
      items.length
        ? sessionsTable(items, new Map([[agent.id, agent]]), { showAgent: false })
        : sdkEmptyState("No sessions of this agent yet — send one with the SDK", agent.name),
    );
  } catch (err) {
    if (!ctx.isCurrent()) return;
    slot.replaceChildren(errorMessage(err));
  }
}

function agentView(ctx, agent, members, sessionsSlot, allLink) {
  const actionError = errorSlot();
  return mount(
    document.createDocumentFragment(),
    header(ctx, agent, actionError),
    h("p", { class: "lede muted mono agent-slug" }, agent.slug),
    actionError.node,
    details(agent, members, ctx.me),
    h(
      "section",
      { class: "section", "aria-labelledby": "recent-sessions" },
      h("div", { class: "section-header" }, h("h2", { id: "recent-sessions" }, "Recent sessions"), allLink),
      sessionsSlot,
    ),
  );
}

export async function renderAgent(container, ctx) {
  const slot = h("div", { class: "slot" }, loading("Loading the agent…"));
  mount(container, h("a", { class: "back-link", href: "/agents" }, "← Agents"), slot);
  let agent;
  let members;
  try {
    [agent, members] = await Promise.all([api(`/agents/${encodeURIComponent(ctx.params.id)}`), loadMembers()]);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err.status === 404) notFound(container);
    else slot.replaceChildren(errorMessage(err));
    return;
  }
  if (!ctx.isCurrent()) return;
  document.title = `${agent.name} · Agents · Provenant`;
  const sessionsSlot = h("div", { class: "slot" }, loading("Loading sessions…"));
  const allLink = h("a", { href: `/sessions?agentId=${encodeURIComponent(agent.id)}` }, "All sessions of this agent");
  slot.replaceWith(agentView(ctx, agent, members, sessionsSlot, allLink));
  await showRecentSessions(ctx, agent, sessionsSlot, allLink);
}
