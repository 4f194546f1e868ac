// Building the page, as text only. Nothing in the dashboard uses innerHTML: every API value reaches the
// page as a text node or an attribute, so a name like <img src=x onerror=...> shows as those characters.
//
//   h(tag, props, ...children)  an element. Children: strings and numbers become text nodes; Nodes are
//                               appended; arrays are flattened; null, undefined and false are skipped.
//                               props: class, for, title, any attribute (true → present, false/null →
//                               absent), value/checked/disabled/selected as properties, dataset: {...},
//                               on: {click: fn, ...}.
//   mount(parent, ...children)  appends children the way h() does (null and false skipped; the DOM's own
//                               append() would write "null"). Returns parent.
//   clear(element)              removes its children; returns element.
//   uniqueId(prefix?)           "prefix-7": an id for label/aria references.
//   faint(text)                 a <span class="faint">: a placeholder such as "—" or "Never".
//   emptyState(text, ...extra)  the calm "nothing here yet" box.
//   loading(text?)              a status line while a request runs.
//   errorMessage(err, labels?)  an API error (or a network failure) as sentences for a person, role=alert;
//                               labels maps API field names to the form's labels ({orgSlug: "Slug"}).
//   errorText(err, labels?)     the same sentences as a string.
//   confirmDialog({title, message, confirmLabel, cancelLabel, danger}) → Promise<boolean>: a modal <dialog>
//                               (focus kept inside, Escape cancels, focus returns where it was).
//   errorSlot(labels?)          {node, show(err), clear()}: where a form's error appears, beside the form.
//   confirmThen(dialog, act, errors) → Promise<boolean>: asks confirmDialog(dialog) first; once confirmed,
//                               awaits act() and clears errors, or shows its failure in errors (an
//                               errorSlot, or anything with show(err)). True when act() ran through.
//   banner(kind, ...children)   kind "success" (the green banner), "info", "warning" or "error".
//   copyButton(text, label?)    a Copy button that puts text on the clipboard and says "Copied".
//   table(columns, rows, {caption, rowProps}) columns: [{label, cell(row) → node|string, class?}].
//   field(label, control, {hint, id})  a label above its control (and a hint below it).
//   select(options, props)      options: [{value, label}] or strings.
//   slugInput(source, props)    a slug <input> that follows slugify(source.value) until the user edits it.
//   button(label, props)        a <button type="button">; props.kind: "primary" | "danger" | "ghost".
//   pageHeader(title, ...actions)  the page's <h1> and the buttons beside it.
//   keepInAddress(params)       puts a page's filters in the address's query (no reload, no new history
//                               entry; empty values left out), so that a reload or a shared link keeps them.
//
// How API values look (statuses, tags, times, JSON) is in components.js.

import { slugify } from "./format.js";

let nextId = 0;

export function uniqueId(prefix = "id") {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "indeterminate"]);

function append(parent, child) {
  if (child === null || child === undefined || child === false || child === true) return;
  if (Array.isArray(child)) {
    for (const item of child) append(parent, item);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (name === "class") {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (name === "for") {
      element.htmlFor = value;
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else if (PROPERTIES.has(name)) {
      element[name] = value;
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (value !== false) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function mount(parent, ...children) {
  append(parent, children);
  return parent;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

export function button(label, { kind, class: extra, ...props } = {}) {
  return h("button", { type: "button", ...props, class: ["button", kind && `button-${kind}`, extra] }, label);
}

export function pageHeader(title, ...actions) {
  return h(
    "header",
    { class: "page-header" },
    h("h1", { tabindex: "-1" }, title),
    actions.length ? h("div", { class: "page-actions" }, actions) : null,
  );
}

export function faint(text) {
  return h("span", { class: "faint" }, text);
}

export function emptyState(text, ...extra) {
  return h("div", { class: "empty-state" }, h("p", {}, text), extra);
}

export function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

const NETWORK_FAILURE = "Could not reach the Provenant server. Check your connection and try again.";

function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** The sentences to show for an error: the API's own sentence, or one line per invalid field. */
export function errorText(err, labels = {}) {
  if (!err || err.status === undefined) return NETWORK_FAILURE;
  if (err.code === "validation_error" && Array.isArray(err.details) && err.details.length) {
    return err.details
      .map((detail) => {
        const field = String(detail.field || "");
        const label = labels[field] || field.replace(/^body\.?/, "") || "Request";
        return sentence(`${label}: ${String(detail.message || "is invalid").replace(/^Value error, /, "")}`);
      })
      .join(" ");
  }
  return sentence(err.message || "Something went wrong. Try again.");
}

export function errorMessage(err, labels = {}) {
  return h("p", { class: "form-error", role: "alert" }, errorText(err, labels));
}

export async function confirmThen(dialog, act, errors) {
  if (!(await confirmDialog(dialog))) return false;
  try {
    await act();
    errors.clear?.();
    return true;
  } catch (err) {
    errors.show(err);
    return false;
  }
}

export function errorSlot(labels = {}) {
  const node = h("div", { class: "error-slot" });
  return {
    node,
    show: (err) => node.replaceChildren(errorMessage(err, labels)),
    clear: () => node.replaceChildren(),
  };
}

export function banner(kind, ...children) {
  const role = kind === "error" || kind === "warning" ? "alert" : "status";
  return h("div", { class: ["banner", `banner-${kind}`], role }, children);
}

async function writeClipboard(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP deployments have no Clipboard API: the old way, through a selection that is removed at once.
  const area = h("textarea", { class: "visually-hidden", readonly: true, "aria-hidden": "true" });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("copy refused");
}

export function copyButton(text, label = "Copy") {
  const status = h("span", { class: "copy-status", role: "status" });
  const control = button(label, {
    on: {
      click: async () => {
        try {
          await writeClipboard(text);
          status.textContent = "Copied";
        } catch {
          status.textContent = "Copy failed — select the text and copy it yourself";
        }
        setTimeout(() => {
          status.textContent = "";
        }, 2500);
      },
    },
  });
  return h("span", { class: "copy" }, control, status);
}

export function confirmDialog({ title, message, confirmLabel = "Confirm", cancelLabel = "Cancel", danger = false }) {
  return new Promise((resolve) => {
    const previous = document.activeElement;
    const titleId = uniqueId("dialog-title");
    const messageId = uniqueId("dialog-message");
    const cancel = button(cancelLabel, { on: { click: () => finish(false) } });
    const confirm = button(confirmLabel, { kind: danger ? "danger" : "primary", on: { click: () => finish(true) } });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId, "aria-describedby": messageId },
      h("h2", { id: titleId }, title),
      h("div", { id: messageId, class: "dialog-message" }, message),
      h("div", { class: "dialog-actions" }, cancel, confirm),
    );
    let settled = false;
    function finish(answer) {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (previous && previous.isConnected && typeof previous.focus === "function") previous.focus();
      resolve(answer);
    }
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    // A destructive question starts on Cancel, so Enter alone never destroys anything.
    (danger ? cancel : confirm).focus();
  });
}

export function table(columns, rows, { caption, rowProps } = {}) {
  return h(
    "div",
    // A table wider than a phone scrolls in this box, which a keyboard must be able to reach to scroll it.
    { class: "table-wrap", tabindex: "0" },
    h(
      "table",
      { class: "table" },
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col", class: column.class }, column.label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            rowProps ? rowProps(row) : {},
            columns.map((column) => h("td", { class: column.class }, column.cell(row))),
          ),
        ),
      ),
    ),
  );
}

export function field(label, control, { hint, id } = {}) {
  const controlId = id || control.id || uniqueId("field");
  control.id = controlId;
  const hintNode = hint ? h("p", { class: "hint", id: `${controlId}-hint` }, hint) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return h("div", { class: "field" }, h("label", { for: controlId }, label), control, hintNode);
}

export function select(options, { value, ...props } = {}) {
  const element = h(
    "select",
    props,
    options.map((option) => {
      const choice = typeof option === "string" ? { value: option, label: option } : option;
      return h("option", { value: choice.value }, choice.label);
    }),
  );
  if (value !== undefined) element.value = value;
  return element;
}

export function slugInput(source, props = {}) {
  const input = h("input", {
    type: "text",
    required: true,
    maxlength: 64,
    pattern: "[a-z0-9]([a-z0-9\\-]{0,62}[a-z0-9])?",
    spellcheck: "false",
    autocapitalize: "off",
    ...props,
  });
  let edited = false;
  source.addEventListener("input", () => {
    if (!edited) input.value = slugify(source.value);
  });
  input.addEventListener("input", () => {
    edited = input.value !== "";
  });
  return input;
}

export function keepInAddress(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  history.replaceState(null, "", location.pathname + (text ? `?${text}` : ""));
}
