// Agents: the list (Active or Archived), New Agent (agent-form.js) and Archive where the role allows; at
// /agents/{id} an agent's page (agent.js).

import { apiAll } from "../api.js";
import { statusBadge, tagList, timeText } from "../components.js";
import { button, emptyState, errorSlot, faint, h, keepInAddress, loading, mount, pageHeader, table } from "../dom.js";
import { canDeleteItem, may } from "../roles.js";
import { agentForm } from "./agent-form.js";
import { archive, creatorName, loadMembers } from "./agent-parts.js";
import { renderAgent } from "./agent.js";

const SHOW = [
  ["ACTIVE", "Active"],
  ["ARCHIVED", "Archived"],
];

/** The page's one state object, its slots and controls. */
function listPage(ctx) {
  const page = {
    ctx,
    show: ctx.query.get("status") === "ARCHIVED" ? "ARCHIVED" : "ACTIVE",
    agents: [],
    members: new Map(),
    membersLoaded: loadMembers(),
    loads: 0,
    form: null,
    formSlot: h("div", { class: "slot" }),
    toolbar: h("div", { class: "toolbar" }),
    errors: errorSlot(),
    listSlot: h("div", { class: "slot" }, loading("Loading agents…")),
  };
  page.newAgent = may(ctx.me, "write") ? newAgentButton(page) : null;
  return page;
}

function newAgentButton(page) {
  return button("New Agent", { kind: "primary", on: { click: () => openForm(page) } });
}

function openForm(page) {
  if (page.form) {
    page.form.focus();
    return;
  }
  const close = () => {
    page.form = null;
    page.formSlot.replaceChildren();
    page.newAgent?.focus();
  };
  page.form = agentForm({
    onCreated: (created) => {
      page.form = null;
      return page.ctx.navigate(`/agents/${encodeURIComponent(created.id)}`);
    },
    onClose: close,
  });
  page.formSlot.replaceChildren(page.form.node);
  page.form.focus();
}

function renderToolbar(page) {
  const choose = (value) => {
    if (page.show === value) return;
    page.show = value;
    keepInAddress({ status: value === "ARCHIVED" ? value : "" });
    renderToolbar(page);
    reload(page);
  };
  const choices = SHOW.map(([value, text]) =>
    h("button", { type: "button", "aria-pressed": String(page.show === value), on: { click: () => choose(value) } }, text),
  );
  page.toolbar.replaceChildren(h("div", { class: "segmented", role: "group", "aria-label": "Show" }, choices));
}

function archiveButton(page, agent) {
  if (agent.status !== "ACTIVE" || !canDeleteItem(page.ctx.me, agent)) return null;
  const click = async () => {
    page.errors.clear();
    if (await archive(agent, page.errors.show)) await reload(page);
  };
  return button("Archive", { class: "button-small button-danger-text", "aria-label": `Archive ${agent.name}`, on: { click } });
}

function columns(page) {
  return [
    {
      label: "Name",
      cell: (agent) => [
        h("a", { class: "name", href: `/agents/${encodeURIComponent(agent.id)}` }, agent.name),
        h("div", { class: "sub mono" }, agent.slug),
      ],
    },
    { label: "Status", cell: (agent) => statusBadge(agent.status) },
    { label: "Tags", cell: (agent) => (agent.tags.length ? tagList(agent.tags) : faint("—")) },
    { label: "Model", cell: (agent) => agent.modelFamily || faint("—") },
    { label: "Created by", cell: (agent) => creatorName(page.members, agent, page.ctx.me) },
    { label: "Updated", class: "nowrap", cell: (agent) => timeText(agent.updatedAt) },
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: (agent) => archiveButton(page, agent) },
  ];
}

function emptyList(page) {
  if (page.show === "ARCHIVED") return emptyState("No archived agents.");
  return emptyState(
    "No agents yet — create one, or let the SDK create it when it sends its first session.",
    page.newAgent ? newAgentButton(page) : null,
  );
}

function renderAgents(page) {
  page.listSlot.replaceChildren(
    page.agents.length
      ? table(columns(page), page.agents, { caption: "Agents", rowProps: (agent) => ({ dataset: { agentId: agent.id } }) })
      : emptyList(page),
  );
}

async function reload(page) {
  page.loads += 1;
  const id = page.loads;
  const stale = () => id !== page.loads || !page.ctx.isCurrent();
  page.listSlot.setAttribute("aria-busy", "true");
  try {
    const query = { status: page.show };
    const [agents, members] = await Promise.all([apiAll("/agents", { query }), page.membersLoaded]);
    if (stale()) return;
    Object.assign(page, { agents, members });
    page.errors.clear();
    renderAgents(page);
  } catch (err) {
    if (stale()) return;
    page.listSlot.replaceChildren();
    page.errors.show(err);
  } finally {
    if (id === page.loads) page.listSlot.removeAttribute("aria-busy");
  }
}

async function renderList(container, ctx) {
  const page = listPage(ctx);
  mount(
    container,
    pageHeader("Agents", page.newAgent),
    h(
      "p",
      { class: "lede muted" },
      "The agents of your organization. The SDK creates one on first use with get_or_create_agent, or create one here.",
    ),
    page.formSlot,
    h("section", { class: "section", "aria-label": "Agents" }, page.toolbar, page.errors.node, page.listSlot),
  );
  renderToolbar(page);
  await reload(page);
}

export async function render(container, ctx) {
  if (ctx.params.id) return renderAgent(container, ctx);
  return renderList(container, ctx);
}
