// New trust policy, on Trusted CI: a preset for GitHub Actions or GitLab (the issuer filled in, and the
// fields that say whose jobs it trusts) or another issuer with its claims typed in; then a name, the
// audience, the access and how long the keys live.
//
//   policyForm({onCreated, onClose}) → {node, focus()}
//   presetClaims(preset, {repository, branch, environment}), parseClaims(text): the claims a policy asks for

import { api } from "../api.js";
import { button, errorSlot, field, h, select, uniqueId } from "../dom.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const GITLAB_ISSUER = "https://gitlab.com";
const DEFAULT_AUDIENCE = "provenant";
const LABELS = { name: "Name", issuer: "Issuer", audience: "Audience", claims: "Claims", access: "Access", ttlSeconds: "Keys live" };

const PRESETS = [
  { value: "github", label: "GitHub Actions" },
  { value: "gitlab", label: "GitLab" },
  { value: "custom", label: "Another issuer" },
];

const ACCESS = [
  { value: "ingest", label: "Ingest only (recommended): send sessions and turns" },
  { value: "read", label: "Read only" },
  { value: "full", label: "Full: acts as you" },
];

const LIFETIMES = [
  { value: "300", label: "5 minutes" },
  { value: "900", label: "15 minutes" },
  { value: "1800", label: "30 minutes" },
  { value: "3600", label: "1 hour" },
];

/** The claims a preset's fields say: GitHub's ref is refs/heads/<branch>, GitLab's the branch itself. */
export function presetClaims(preset, { repository, branch, environment }) {
  const claims = {};
  if (preset === "github") {
    if (repository) claims.repository = repository;
    if (branch) claims.ref = branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
    if (environment) claims.environment = environment;
  } else if (preset === "gitlab") {
    if (repository) claims.project_path = repository;
    if (branch) {
      claims.ref_type = "branch";
      claims.ref = branch;
    }
    if (environment) claims.environment = environment;
  }
  return claims;
}

/** "name=value" lines of the custom issuer's claims box, as an object; blank lines skipped. */
export function parseClaims(text) {
  const claims = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`“${line.trim()}” is not claim=value.`);
    claims[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return claims;
}

// ---- the form's state: its fields and the preset chosen ---------------------------------------------

function formState() {
  const input = (props) => h("input", { type: "text", autocomplete: "off", spellcheck: "false", ...props });
  const form = {
    preset: "github",
    name: input({ name: "name", required: true, maxlength: 100, value: "main branch CI" }),
    issuer: input({ name: "issuer", required: true, maxlength: 500, value: GITHUB_ISSUER, readonly: true }),
    repository: input({ name: "repository", required: true, placeholder: "acme/agent" }),
    branch: input({ name: "branch", value: "main", placeholder: "any branch" }),
    environment: input({ name: "environment", placeholder: "any (optional)" }),
    claims: h("textarea", { name: "claims", rows: 3, spellcheck: "false", placeholder: "sub=repo:acme/agent:*" }),
    audience: input({ name: "audience", required: true, maxlength: 200, value: DEFAULT_AUDIENCE }),
    access: select(ACCESS, { name: "access", value: "ingest" }),
    lifetime: select(LIFETIMES, { name: "ttlSeconds", value: "900" }),
    submit: button("Create policy", { type: "submit", kind: "primary" }),
    error: errorSlot(LABELS),
  };
  form.repositoryField = field("Repository", form.repository, { hint: "owner/name; a value ending in * matches a prefix (acme/*)." });
  form.branchField = field("Branch", form.branch, { hint: "Leave empty to trust every branch." });
  form.environmentField = field("Environment", form.environment);
  form.claimsField = field("Claims", form.claims, {
    hint: "One claim=value a line; the token must carry each. A value ending in * matches a prefix.",
  });
  form.claimsField.hidden = true;
  return form;
}

function choosePreset(form, value) {
  const gitlab = value === "gitlab";
  form.preset = value;
  form.issuer.value = value === "github" ? GITHUB_ISSUER : gitlab ? GITLAB_ISSUER : "";
  // GitHub's issuer is one URL; GitLab's differs on a self-managed instance; a custom one is typed.
  form.issuer.readOnly = value === "github";
  form.repositoryField.querySelector("label").textContent = gitlab ? "Project" : "Repository";
  form.repository.placeholder = gitlab ? "acme/agent (the project path)" : "acme/agent";
  form.repository.required = value !== "custom";
  for (const part of [form.repositoryField, form.branchField, form.environmentField]) part.hidden = value === "custom";
  form.claimsField.hidden = value !== "custom";
  (value === "custom" ? form.claims : form.repository).focus();
}

function presetChoices(form) {
  const group = uniqueId("preset");
  const choice = (preset) =>
    h(
      "label",
      { class: "choice" },
      h("input", {
        type: "radio",
        name: group,
        value: preset.value,
        checked: preset.value === form.preset,
        on: { change: () => choosePreset(form, preset.value) },
      }),
      h("span", {}, preset.label),
    );
  const choices = h("div", { class: "choices", role: "radiogroup", "aria-label": "CI provider" }, PRESETS.map(choice));
  return h("fieldset", { class: "field choices-field" }, h("legend", { class: "fieldset-legend" }, "CI provider"), choices);
}

// ---- sending it ---------------------------------------------------------------------------------------

/** The policy's body; throws the sentence to show when the custom claims cannot be read. */
function policyBody(form) {
  const claims =
    form.preset === "custom"
      ? parseClaims(form.claims.value)
      : presetClaims(form.preset, {
          repository: form.repository.value.trim(),
          branch: form.branch.value.trim(),
          environment: form.environment.value.trim(),
        });
  return {
    name: form.name.value.trim(),
    issuer: form.issuer.value.trim(),
    audience: form.audience.value.trim(),
    claims,
    access: form.access.value,
    ttlSeconds: Number(form.lifetime.value),
  };
}

async function create(form, onCreated, event) {
  event.preventDefault();
  form.error.clear();
  let body;
  try {
    body = policyBody(form);
  } catch (err) {
    form.error.show({ status: 0, message: err.message });
    return;
  }
  form.submit.disabled = true;
  try {
    await api("/org/trust-policies", { method: "POST", body });
  } catch (err) {
    form.error.show(err);
    form.submit.disabled = false;
    return;
  }
  await onCreated();
}

export function policyForm({ onCreated, onClose }) {
  const form = formState();
  const titleId = uniqueId("policy-title");
  const node = h(
    "form",
    { class: "card form-card", "aria-labelledby": titleId, on: { submit: (event) => create(form, onCreated, event) } },
    h("h2", { id: titleId }, "New trust policy"),
    presetChoices(form),
    field("Issuer", form.issuer, { hint: "The iss of the provider's ID tokens." }),
    form.repositoryField,
    form.branchField,
    form.environmentField,
    form.claimsField,
    field("Name", form.name, { hint: "Shown with each key a job gets: “via main branch CI”." }),
    field("Audience", form.audience, {
      hint: "What the job asks its token for: the SDKs ask for provenant unless PROVENANT_OIDC_AUDIENCE says otherwise.",
    }),
    field("Access", form.access, { hint: "Never more than your own role allows, now and as it changes." }),
    field("Keys live", form.lifetime, { hint: "The SDKs exchange a new token shortly before a key expires." }),
    form.error.node,
    h("div", { class: "form-actions" }, form.submit, button("Cancel", { kind: "ghost", on: { click: onClose } })),
  );
  return { node, focus: () => form.repository.focus() };
}
