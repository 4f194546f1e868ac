// Agents: the list (Active or Archived), New Agent and Archive where the role allows, and an agent's page
// with its details and its recent sessions.

import { api, apiAll, fetchPage } from "../api.js";
import { exactTimeText, statusBadge, tagList, timeText } from "../components.js";
import {
  button,
  confirmThen,
  emptyState,
  errorMessage,
  errorSlot,
  faint,
  field,
  h,
  keepInAddress,
  loading,
  mount,
  pageHeader,
  slugInput,
  table,
  uniqueId,
} from "../dom.js";
import { canDeleteItem, canWrite } from "../roles.js";
import { sdkEmptyState, sessionsTable } from "./sessions.js";

const LABELS = { name: "Name", slug: "Slug", description: "Description", tags: "Tags", modelFamily: "Model family" };
const RECENT_SESSIONS = 10;

function parseTags(text) {
  const seen = new Set();
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag && !seen.has(tag) && seen.add(tag));
}

async function loadMembers() {
  try {
    return new Map((await apiAll("/org/members")).map((member) => [member.id, member]));
  } catch {
    return new Map(); // Names are a nicety: the page reads without them.
  }
}

function creatorName(members, agent, me) {
  if (agent.createdById === me.id) return "you";
  const member = members.get(agent.createdById);
  return member ? member.name : "a former member";
}

function archive(agent, onError) {
  return confirmThen(
    {
      title: `Archive “${agent.name}”?`,
      message: [
        h("p", {}, "It leaves the Active list; its sessions stay readable and it is listed under Archived."),
        h("p", {}, "The dashboard has no way to bring it back."),
      ],
      confirmLabel: "Archive agent",
      danger: true,
    },
    () => api(`/agents/${encodeURIComponent(agent.id)}`, { method: "DELETE" }),
    { show: onError },
  );
}

// ---- the list -----------------------------------------------------------------------------------

async function renderList(container, ctx) {
  const { me } = ctx;
  const state = { show: ctx.query.get("status") === "ARCHIVED" ? "ARCHIVED" : "ACTIVE", agents: [], members: new Map() };
  let formOpen = false;
  let loadCount = 0;
  const membersLoaded = loadMembers();

  const newAgent = canWrite(me) ? button("New Agent", { kind: "primary", on: { click: openForm } }) : null;
  const formSlot = h("div", { class: "slot" });
  const toolbar = h("div", { class: "toolbar" });
  const listError = errorSlot();
  const listSlot = h("div", { class: "slot" }, loading("Loading agents…"));

  mount(
    container,
    pageHeader("Agents", newAgent),
    h(
      "p",
      { class: "lede muted" },
      "The agents of your organization. The SDK creates one on first use with get_or_create_agent, or create one here.",
    ),
    formSlot,
    h("section", { class: "section", "aria-label": "Agents" }, toolbar, listError.node, listSlot),
  );

  function renderToolbar() {
    toolbar.replaceChildren(
      h(
        "div",
        { class: "segmented", role: "group", "aria-label": "Show" },
        [
          ["ACTIVE", "Active"],
          ["ARCHIVED", "Archived"],
        ].map(([value, text]) =>
          h(
            "button",
            {
              type: "button",
              "aria-pressed": String(state.show === value),
              on: {
                click: () => {
                  if (state.show === value) return;
                  state.show = value;
                  keepInAddress({ status: value === "ARCHIVED" ? value : "" });
                  renderToolbar();
                  reload();
                },
              },
            },
            text,
          ),
        ),
      ),
    );
  }

  function renderAgents() {
    if (!state.agents.length) {
      listSlot.replaceChildren(
        state.show === "ARCHIVED"
          ? emptyState("No archived agents.")
          : emptyState(
              "No agents yet — create one, or let the SDK create it when it sends its first session.",
              newAgent ? button("New Agent", { kind: "primary", on: { click: openForm } }) : null,
            ),
      );
      return;
    }
    const columns = [
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
      { label: "Created by", cell: (agent) => creatorName(state.members, agent, me) },
      { label: "Updated", class: "nowrap", cell: (agent) => timeText(agent.updatedAt) },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        cell: (agent) =>
          agent.status === "ACTIVE" && canDeleteItem(me, agent)
            ? button("Archive", {
                class: "button-small button-danger-text",
                "aria-label": `Archive ${agent.name}`,
                on: {
                  click: async () => {
                    listError.clear();
                    if (await archive(agent, listError.show)) await reload();
                  },
                },
              })
            : null,
      },
    ];
    listSlot.replaceChildren(
      table(columns, state.agents, { caption: "Agents", rowProps: (agent) => ({ dataset: { agentId: agent.id } }) }),
    );
  }

  async function reload() {
    loadCount += 1;
    const id = loadCount;
    listSlot.setAttribute("aria-busy", "true");
    try {
      const [agents, members] = await Promise.all([apiAll("/agents", { query: { status: state.show } }), membersLoaded]);
      if (id !== loadCount || !ctx.isCurrent()) return;
      state.agents = agents;
      state.members = members;
      listError.clear();
      renderAgents();
    } catch (err) {
      if (id !== loadCount || !ctx.isCurrent()) return;
      listSlot.replaceChildren();
      listError.show(err);
    } finally {
      if (id === loadCount) listSlot.removeAttribute("aria-busy");
    }
  }

  // ---- New Agent ----------------------------------------------------------------------------------

  function openForm() {
    if (formOpen) {
      formSlot.querySelector("input")?.focus();
      return;
    }
    formOpen = true;
    const titleId = uniqueId("new-agent");
    const name = h("input", { type: "text", name: "name", required: true, maxlength: 200, autocomplete: "off" });
    const slug = slugInput(name, { name: "slug", autocomplete: "off" });
    const description = h("textarea", { name: "description", rows: 3, maxlength: 5000 });
    const tags = h("input", { type: "text", name: "tags", autocomplete: "off", placeholder: "e.g. support, prod" });
    const modelFamily = h("input", {
      type: "text",
      name: "modelFamily",
      maxlength: 100,
      autocomplete: "off",
      placeholder: "e.g. gpt-4o, claude",
    });
    const submit = button("Create agent", { type: "submit", kind: "primary" });
    const error = errorSlot(LABELS);

    function close() {
      formOpen = false;
      formSlot.replaceChildren();
      newAgent?.focus();
    }

    async function create(event) {
      event.preventDefault();
      error.clear();
      submit.disabled = true;
      try {
        const created = await api("/agents", {
          method: "POST",
          body: {
            name: name.value.trim(),
            slug: slug.value.trim(),
            description: description.value.trim() || null,
            tags: parseTags(tags.value),
            modelFamily: modelFamily.value.trim() || null,
          },
        });
        formOpen = false;
        await ctx.navigate(`/agents/${encodeURIComponent(created.id)}`);
      } catch (err) {
        error.show(err);
        submit.disabled = false;
      }
    }

    formSlot.replaceChildren(
      h(
        "form",
        { class: "card form-card", "aria-labelledby": titleId, on: { submit: create } },
        h("h2", { id: titleId }, "New Agent"),
        h(
          "div",
          { class: "form-row" },
          field("Name", name),
          field("Slug", slug, { hint: "Lowercase letters, digits and hyphens; unique in your organization." }),
        ),
        field("Description", description),
        h(
          "div",
          { class: "form-row" },
          field("Tags", tags, { hint: "Separated by commas." }),
          field("Model family", modelFamily),
        ),
        error.node,
        h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: close } })),
      ),
    );
    name.focus();
  }

  renderToolbar();
  await reload();
}

// ---- one agent ----------------------------------------------------------------------------------

async function renderAgent(container, ctx) {
  const { me } = ctx;
  const id = ctx.params.id;
  const slot = h("div", { class: "slot" }, loading("Loading the agent…"));
  mount(container, h("a", { class: "back-link", href: "/agents" }, "← Agents"), slot);

  let agent;
  let members;
  try {
    [agent, members] = await Promise.all([api(`/agents/${encodeURIComponent(id)}`), loadMembers()]);
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err.status === 404) {
      container.replaceChildren();
      mount(
        container,
        pageHeader("Agent not found"),
        emptyState(
          "There is no agent at this address: it may belong to another organization.",
          h("a", { href: "/agents" }, "Go to Agents"),
        ),
      );
      return;
    }
    slot.replaceChildren(errorMessage(err));
    return;
  }
  if (!ctx.isCurrent()) return;
  document.title = `${agent.name} · Agents · Provenant`;

  const actionError = errorSlot();
  const archiveButton =
    agent.status === "ACTIVE" && canDeleteItem(me, agent)
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
  const header = pageHeader(agent.name, archiveButton);
  header.querySelector("h1").prepend(h("span", { class: "visually-hidden" }, "Agent: "));

  const rows = [
    ["Status", statusBadge(agent.status)],
    ["Model family", agent.modelFamily || faint("—")],
    ["Tags", agent.tags.length ? tagList(agent.tags) : faint("None")],
    ["Created by", creatorName(members, agent, me)],
    ["Created", exactTimeText(agent.createdAt)],
    ["Updated", timeText(agent.updatedAt)],
    ["Description", agent.description ? h("p", { class: "description" }, agent.description) : faint("No description."), true],
  ];
  const sessionsSlot = h("div", { class: "slot" }, loading("Loading sessions…"));
  const allLink = h("a", { href: `/sessions?agentId=${encodeURIComponent(agent.id)}` }, "All sessions of this agent");

  slot.replaceWith(
    mount(
      document.createDocumentFragment(),
      header,
      h("p", { class: "lede muted mono agent-slug" }, agent.slug),
      actionError.node,
      h(
        "section",
        { class: "card", "aria-label": "Details" },
        h(
          "dl",
          { class: "summary" },
          rows.map(([term, value, wide]) =>
            h("div", { class: ["summary-item", wide && "summary-wide"] }, h("dt", {}, term), h("dd", {}, value)),
          ),
        ),
      ),
      h(
        "section",
        { class: "section", "aria-labelledby": "recent-sessions" },
        h("div", { class: "section-header" }, h("h2", { id: "recent-sessions" }, "Recent sessions"), allLink),
        sessionsSlot,
      ),
    ),
  );

  try {
    const { items } = await fetchPage("/sessions", { agentId: agent.id, limit: RECENT_SESSIONS });
    if (!ctx.isCurrent()) return;
    allLink.hidden = !items.length;
    sessionsSlot.replaceChildren(
      items.length
        ? sessionsTable(items, new Map([[agent.id, agent]]), { showAgent: false })
        : sdkEmptyState("No sessions of this agent yet — send one with the SDK", agent.name),
    );
  } catch (err) {
    if (!ctx.isCurrent()) return;
    sessionsSlot.replaceChildren(errorMessage(err));
  }
}

export async function render(container, ctx) {
  if (ctx.params.id) return renderAgent(container, ctx);
  return renderList(container, ctx);
}
