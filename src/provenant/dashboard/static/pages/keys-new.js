// New Key, on API Keys: a name, its access (full, read only, ingest only), an expiry (with a nudge towards
// one when the name looks like CI's) and an optional rate limit. The created key goes to the green banner.
//
//   ACCESS_CHOICES          what each access lets a key do, in a line each
//   looksLikeCi(name)       whether a key's name says it is for CI
//   openNewKey(page)        opens the form in page.formSlot (or focuses the one open)

import { api } from "../api.js";
import { button, errorSlot, field, h, uniqueId } from "../dom.js";
import { relativeTime } from "../format.js";
import { showSecret } from "./keys-secret.js";

const DAY = 86_400_000;
const CI_WORDS = new Set(["ci", "cd", "github", "gitlab", "actions", "pipeline", "circleci", "jenkins", "buildkite"]);
// The contract's bounds of rateLimitPerMinute; the server checks them too.
const MAX_RATE_LIMIT = 1000000;
const LABELS = { name: "Name", expiresAt: "Expiry", access: "Access", rateLimitPerMinute: "Rate limit" };

// The contract's "Key access and rolling", in a line each.
export const ACCESS_CHOICES = [
  {
    value: "full",
    label: "Full — acts as you",
    short: "Full access",
    hint: "Everything your role allows, now and as your role changes: for your own scripts and CI.",
  },
  {
    value: "read",
    label: "Read only",
    short: "Read only",
    hint: "Reads agents, sessions and what else your role may see; changes nothing.",
  },
  {
    value: "ingest",
    label: "Ingest only",
    short: "Ingest only",
    hint: "What an instrumented agent needs: creates agents and sessions, adds turns, ends sessions, reads only its own sessions.",
  },
];

const EXPIRY_CHOICES = [
  { value: "never", label: "No expiry" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "date", label: "A date…" },
];

export function looksLikeCi(name) {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((word) => CI_WORDS.has(word));
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function radio(group, value, checked, onChange) {
  return h("input", { type: "radio", name: group, value, checked, on: { change: onChange } });
}

// ---- the form's state: its fields and what is chosen ---------------------------------------------

function formState() {
  return {
    expiry: "never",
    access: "full",
    name: h("input", {
      type: "text",
      name: "name",
      required: true,
      maxlength: 100,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "e.g. prod-ingestion or github-actions-ci",
    }),
    dateInput: h("input", { type: "datetime-local", name: "expiresAt", hidden: true, "aria-label": "Expiry date and time" }),
    dateHint: h("p", { class: "hint", hidden: true }, "In your local time."),
    warning: h("p", { class: "field-warning", role: "status" }),
    suggestion: h("div", { class: "slot" }),
    rateLimit: h("input", {
      type: "number",
      name: "rateLimitPerMinute",
      min: 1,
      max: MAX_RATE_LIMIT,
      step: 1,
      inputmode: "numeric",
      autocomplete: "off",
      placeholder: "No limit",
    }),
    submit: button("Create", { type: "submit", kind: "primary" }),
    error: errorSlot(LABELS),
  };
}

/** null for no expiry, undefined for "a date" not given yet, else the moment. */
function expiresAt(form) {
  if (form.expiry === "never") return null;
  if (form.expiry === "date") return form.dateInput.value ? new Date(form.dateInput.value) : undefined;
  return new Date(Date.now() + Number(form.expiry) * DAY);
}

function expiryWarning(when) {
  if (!(when instanceof Date) || Number.isNaN(when.getTime())) return "";
  const left = when.getTime() - Date.now();
  if (left <= 0) return "This moment has passed: choose a time in the future.";
  if (left < DAY) return `This key will expire in less than a day (${relativeTime(when.toISOString())}).`;
  return "";
}

function update(form) {
  form.warning.textContent = expiryWarning(expiresAt(form));
  if (form.expiry !== "never" || !looksLikeCi(form.name.value)) {
    form.suggestion.replaceChildren();
    return;
  }
  form.suggestion.replaceChildren(
    h(
      "p",
      { class: "hint suggestion" },
      "This looks like a CI key: shorter-lived keys reduce the damage if one leaks. ",
      button("Expire in 90 days", { class: "button-small", on: { click: () => chooseExpiry(form, "90") } }),
    ),
  );
}

function chooseExpiry(form, value) {
  form.expiry = value;
  for (const input of form.expiryRadios) input.checked = input.value === value;
  const byDate = value === "date";
  form.dateInput.hidden = !byDate;
  form.dateHint.hidden = !byDate;
  form.dateInput.required = byDate;
  if (byDate) {
    form.dateInput.min = localInputValue(new Date());
    if (!form.dateInput.value) form.dateInput.value = localInputValue(new Date(Date.now() + 30 * DAY));
    form.dateInput.focus();
  }
  update(form);
}

// ---- its parts ------------------------------------------------------------------------------------

function accessField(form) {
  const group = uniqueId("access");
  const choices = ACCESS_CHOICES.map((choice) => {
    const hintId = uniqueId("access-hint");
    const input = radio(group, choice.value, choice.value === form.access, () => (form.access = choice.value));
    input.setAttribute("aria-describedby", hintId);
    return h(
      "div",
      { class: "access-choice" },
      h("label", {}, input, h("span", {}, choice.label)),
      h("p", { class: "hint", id: hintId }, choice.hint),
    );
  });
  return h(
    "fieldset",
    { class: "field choices-field" },
    h("legend", { class: "fieldset-legend" }, "Access"),
    h("div", { class: "access-choices" }, choices),
  );
}

function expiryField(form) {
  const group = uniqueId("expiry");
  form.expiryRadios = EXPIRY_CHOICES.map((choice) =>
    radio(group, choice.value, choice.value === form.expiry, () => chooseExpiry(form, choice.value)),
  );
  const labels = EXPIRY_CHOICES.map((choice, index) =>
    h("label", { class: "choice" }, form.expiryRadios[index], h("span", {}, choice.label)),
  );
  return h(
    "fieldset",
    { class: "field choices-field" },
    h("legend", { class: "fieldset-legend" }, "Expiry"),
    h("div", { class: "choices" }, labels),
    form.dateInput,
    form.dateHint,
    form.warning,
    form.suggestion,
  );
}

function formNode(form, { create, close }) {
  const titleId = uniqueId("key-name-title");
  return h(
    "form",
    { class: "card form-card", "aria-labelledby": titleId, on: { submit: create } },
    h("h2", { id: titleId }, "New Key"),
    field("Name", form.name, { hint: "Say where it is used, so you know what breaks if you revoke it." }),
    accessField(form),
    expiryField(form),
    field("Rate limit (requests per minute)", form.rateLimit, {
      hint: "Optional, 1 to 1,000,000. Past it, requests with this key are refused (429) until the minute ends. Empty: no limit.",
    }),
    form.error.node,
    h("div", { class: "form-actions" }, form.submit, button("Cancel", { kind: "ghost", on: { click: close } })),
  );
}

// ---- opening and sending it -----------------------------------------------------------------------

function keyBody(form, when) {
  return {
    name: form.name.value.trim(),
    expiresAt: when ? when.toISOString() : null,
    access: form.access,
    rateLimitPerMinute: form.rateLimit.value === "" ? null : Number(form.rateLimit.value),
  };
}

async function create(page, form, event) {
  event.preventDefault();
  form.error.clear();
  const when = expiresAt(form);
  if (when === undefined) {
    form.error.show({ status: 0, message: "Choose the date and time the key expires." });
    form.dateInput.focus();
    return;
  }
  form.submit.disabled = true;
  try {
    const created = await api("/org/keys", { method: "POST", body: keyBody(form, when) });
    page.form = null;
    page.formSlot.replaceChildren();
    showSecret(page, created);
    await page.reload();
  } catch (err) {
    form.error.show(err);
    form.submit.disabled = false;
  }
}

export function openNewKey(page) {
  if (page.form) {
    page.form.name.focus();
    return;
  }
  const form = formState();
  page.form = form;
  const close = () => {
    page.form = null;
    page.formSlot.replaceChildren();
    page.newKey?.focus();
  };
  form.name.addEventListener("input", () => update(form));
  form.dateInput.addEventListener("input", () => update(form));
  page.formSlot.replaceChildren(formNode(form, { create: (event) => create(page, form, event), close }));
  form.name.focus();
}
