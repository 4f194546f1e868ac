// A turn of a conversation, readable: text as text, JSON pretty-printed, chat "parts" as their text, tool
// calls by name with their arguments, its tokens, latency and metadata.
//
//   turnView(turn, index) → the <li> of the conversation's <ol>

import { collapsible, jsonBlock, keyValues, timeText } from "../components.js";
import { h } from "../dom.js";
import { count, duration, enumLabel } from "../format.js";

const ROLES = ["USER", "ASSISTANT", "SYSTEM", "TOOL"];

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

export function turnView(turn, index) {
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

