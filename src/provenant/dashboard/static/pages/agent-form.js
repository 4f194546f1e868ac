// New Agent: name, description, tags and model family. The server alone derives the slug from the name,
// by the same rule get_or_create_agent matches on, so an agent made here is the one the SDK finds; the
// agent's page shows the slug the server gave it.
//
//   agentForm({onCreated, onClose}) → {node, focus()}: the form card; onCreated(agent) after a 201.

import { api } from "../api.js";
import { button, errorSlot, field, h, uniqueId } from "../dom.js";

// The API's field names as the form's labels; a taken slug is the name's, since the name makes it.
const LABELS = { name: "Name", slug: "Name", description: "Description", tags: "Tags", modelFamily: "Model family" };

export function parseTags(text) {
  const seen = new Set();
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter((tag) => tag && !seen.has(tag) && seen.add(tag));
}

function inputs() {
  return {
    name: h("input", { type: "text", name: "name", required: true, maxlength: 200, autocomplete: "off" }),
    description: h("textarea", { name: "description", rows: 3, maxlength: 5000 }),
    tags: h("input", { type: "text", name: "tags", autocomplete: "off", placeholder: "e.g. support, prod" }),
    modelFamily: h("input", {
      type: "text",
      name: "modelFamily",
      maxlength: 100,
      autocomplete: "off",
      placeholder: "e.g. gpt-4o, claude",
    }),
  };
}

function body(fields) {
  return {
    name: fields.name.value.trim(),
    description: fields.description.value.trim() || null,
    tags: parseTags(fields.tags.value),
    modelFamily: fields.modelFamily.value.trim() || null,
  };
}

export function agentForm({ onCreated, onClose }) {
  const titleId = uniqueId("new-agent");
  const fields = inputs();
  const submit = button("Create agent", { type: "submit", kind: "primary" });
  const error = errorSlot(LABELS);

  async function create(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      await onCreated(await api("/agents", { method: "POST", body: body(fields) }));
    } catch (err) {
      error.show(err);
      submit.disabled = false;
    }
  }

  const node = h(
    "form",
    { class: "card form-card", "aria-labelledby": titleId, on: { submit: create } },
    h("h2", { id: titleId }, "New Agent"),
    field("Name", fields.name, { hint: "The SDK’s get_or_create_agent finds this agent by this name." }),
    field("Description", fields.description),
    h("div", { class: "form-row" }, field("Tags", fields.tags, { hint: "Separated by commas." }), field("Model family", fields.modelFamily)),
    error.node,
    h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: onClose } })),
  );
  return { node, focus: () => fields.name.focus() };
}
