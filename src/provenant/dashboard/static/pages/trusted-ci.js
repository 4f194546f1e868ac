// Trusted CI, on the API Keys page: the trust policies that let CI jobs exchange their provider's ID token
// for a key that lives minutes (no secret stored in CI), New policy with presets for GitHub Actions and
// GitLab and a custom issuer, and the keys CI jobs hold now, apart from the long-lived ones.
//
// keys.js owns the page and its list of keys; this module gets the keys from it (showKeys) and asks it to
// reload them after a revocation or a deleted policy (reloadKeys).

import { api } from "../api.js";
import { dateText } from "../components.js";
import { button, confirmThen, emptyState, errorSlot, field, h, loading, select, table, uniqueId } from "../dom.js";
import { exactTime, isPast, relativeTime } from "../format.js";
import { canManageTrustPolicies, canRevokeKey } from "../roles.js";

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
export const GITLAB_ISSUER = "https://gitlab.com";
const DEFAULT_AUDIENCE = "provenant";

// What a policy starts from: the issuer filled in, and the fields that say whose jobs it trusts.
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

const ACCESS_SHORT = { ingest: "Ingest only", read: "Read only", full: "Full" };

const LIFETIMES = [
  { value: "300", label: "5 minutes" },
  { value: "900", label: "15 minutes" },
  { value: "1800", label: "30 minutes" },
  { value: "3600", label: "1 hour" },
];

function minutes(seconds) {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

function issuerLabel(issuer) {
  if (issuer === GITHUB_ISSUER || issuer.startsWith(`${GITHUB_ISSUER}/`)) return "GitHub Actions";
  if (issuer === GITLAB_ISSUER) return "GitLab";
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

function claimList(claims) {
  return h(
    "ul",
    { class: "claims" },
    Object.entries(claims).map(([name, value]) => h("li", {}, h("code", {}, name), " ", value.endsWith("*") ? "starts with " : "= ", h("code", {}, value.endsWith("*") ? value.slice(0, -1) : value))),
  );
}

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

export function trustedCiSection(ctx, { reloadKeys }) {
  const { me } = ctx;
  const manage = canManageTrustPolicies(me);
  const state = { policies: [], keys: [], formOpen: false };
  const newPolicy = manage ? button("New policy", { kind: "primary", on: { click: openForm } }) : null;
  const formSlot = h("div", { class: "slot" });
  const errors = errorSlot();
  const policiesSlot = h("div", { class: "slot" }, manage ? loading("Loading policies…") : null);
  const keysSlot = h("div", { class: "slot" });
  const node = h(
    "section",
    { class: "section trusted-ci", "aria-labelledby": "trusted-ci-title" },
    h("div", { class: "section-header" }, h("h2", { id: "trusted-ci-title" }, "Trusted CI"), newPolicy),
    h(
      "p",
      { class: "lede muted" },
      "CI jobs exchange the ID token their provider gives them for a key that lives minutes: nothing secret is stored in CI. A policy says whose jobs may.",
    ),
    formSlot,
    errors.node,
    manage ? h("h3", {}, "Policies") : null,
    policiesSlot,
    h("h3", {}, "Keys held by CI jobs now"),
    keysSlot,
  );

  function policyName(key) {
    const policy = state.policies.find((candidate) => candidate.id === key.policyId);
    return policy ? policy.name : "a deleted policy";
  }

  function renderPolicies() {
    if (!manage) return;
    if (!state.policies.length) {
      policiesSlot.replaceChildren(emptyState("No policies yet: CI jobs need a stored key."));
      return;
    }
    const columns = [
      { label: "Name", cell: (policy) => h("div", { class: "name" }, policy.name) },
      {
        label: "Trusts",
        cell: (policy) => [
          h("div", { title: policy.issuer }, issuerLabel(policy.issuer)),
          claimList(policy.claims),
          h("div", { class: "sub" }, "audience ", h("code", {}, policy.audience)),
        ],
      },
      { label: "Access", class: "nowrap", cell: (policy) => ACCESS_SHORT[policy.access] || policy.access },
      { label: "Keys live", class: "nowrap", cell: (policy) => minutes(policy.ttlSeconds) },
      {
        label: "Created",
        cell: (policy) => [
          h("div", { class: "nowrap" }, dateText(policy.createdAt, "")),
          h("div", { class: "sub", title: policy.createdBy.email }, `by ${policy.createdBy.name}`),
        ],
      },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        cell: (policy) =>
          button("Delete", {
            class: "button-small button-danger-text",
            "aria-label": `Delete policy ${policy.name}`,
            on: { click: () => remove(policy) },
          }),
      },
    ];
    policiesSlot.replaceChildren(table(columns, state.policies, { caption: "Trust policies", rowProps: (p) => ({ dataset: { policyId: p.id } }) }));
  }

  function renderKeys() {
    const live = state.keys.filter((key) => key.ephemeral && !key.revokedAt && !isPast(key.expiresAt));
    if (!live.length) {
      keysSlot.replaceChildren(emptyState("No CI job holds a key now."));
      return;
    }
    const columns = [
      {
        label: "Job",
        cell: (key) => [
          h("div", { class: "name" }, key.name),
          h(
            "div",
            { class: "sub ephemeral-via" },
            `via ${policyName(key)}, expires `,
            h("time", { datetime: key.expiresAt, title: exactTime(key.expiresAt) }, relativeTime(key.expiresAt)),
          ),
        ],
      },
      { label: "Key", class: "nowrap", cell: (key) => h("code", {}, `pk_live_${key.keyPrefix}…`) },
      {
        label: h("span", { class: "visually-hidden" }, "Actions"),
        class: "actions",
        cell: (key) =>
          canRevokeKey(me, key)
            ? button("Revoke", {
                class: "button-small button-danger-text",
                "aria-label": `Revoke ${key.name}`,
                on: { click: () => revoke(key) },
              })
            : null,
      },
    ];
    keysSlot.replaceChildren(table(columns, live, { caption: "Keys held by CI jobs", rowProps: (key) => ({ dataset: { keyId: key.id } }) }));
  }

  async function loadPolicies() {
    if (!manage) return;
    try {
      state.policies = await api("/org/trust-policies");
      errors.clear();
    } catch (err) {
      if (!ctx.isCurrent()) return;
      policiesSlot.replaceChildren();
      errors.show(err);
      return;
    }
    renderPolicies();
    renderKeys();
  }

  async function remove(policy) {
    await confirmThen(
      {
        title: `Delete the policy “${policy.name}”?`,
        message: [
          h("p", {}, "Its CI jobs can no longer exchange their ID tokens for keys, and every key they hold now is revoked at once."),
        ],
        confirmLabel: "Delete policy",
        danger: true,
      },
      async () => {
        await api(`/org/trust-policies/${encodeURIComponent(policy.id)}`, { method: "DELETE" });
        await loadPolicies();
        await reloadKeys();
      },
      errors,
    );
  }

  async function revoke(key) {
    await confirmThen(
      {
        title: `Revoke “${key.name}”?`,
        message: h("p", {}, "The job holding it is refused from now on; it would need to exchange a new ID token."),
        confirmLabel: "Revoke key",
        danger: true,
      },
      async () => {
        await api(`/org/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
        await reloadKeys();
      },
      errors,
    );
  }

  // ---- New policy ------------------------------------------------------------------------------

  function openForm() {
    if (state.formOpen) {
      formSlot.querySelector("input")?.focus();
      return;
    }
    state.formOpen = true;
    let preset = "github";
    const titleId = uniqueId("policy-title");
    const input = (props) => h("input", { type: "text", autocomplete: "off", spellcheck: "false", ...props });
    const name = input({ name: "name", required: true, maxlength: 100, value: "main branch CI" });
    const issuer = input({ name: "issuer", required: true, maxlength: 500, value: GITHUB_ISSUER, readonly: true });
    const repository = input({ name: "repository", required: true, placeholder: "acme/agent" });
    const branch = input({ name: "branch", value: "main", placeholder: "any branch" });
    const environment = input({ name: "environment", placeholder: "any (optional)" });
    const claimsBox = h("textarea", { name: "claims", rows: 3, spellcheck: "false", placeholder: "sub=repo:acme/agent:*" });
    const audience = input({ name: "audience", required: true, maxlength: 200, value: DEFAULT_AUDIENCE });
    const access = select(ACCESS, { name: "access", value: "ingest" });
    const lifetime = select(LIFETIMES, { name: "ttlSeconds", value: "900" });
    const repositoryField = field("Repository", repository, { hint: "owner/name; a value ending in * matches a prefix (acme/*)." });
    const branchField = field("Branch", branch, { hint: "Leave empty to trust every branch." });
    const environmentField = field("Environment", environment);
    const claimsField = field("Claims", claimsBox, { hint: "One claim=value a line; the token must carry each. A value ending in * matches a prefix." });
    const submit = button("Create policy", { type: "submit", kind: "primary" });
    const error = errorSlot({
      name: "Name",
      issuer: "Issuer",
      audience: "Audience",
      claims: "Claims",
      access: "Access",
      ttlSeconds: "Keys live",
    });
    const presetGroup = uniqueId("preset");
    const presets = h(
      "div",
      { class: "choices", role: "radiogroup", "aria-label": "CI provider" },
      PRESETS.map((choice) =>
        h(
          "label",
          { class: "choice" },
          h("input", {
            type: "radio",
            name: presetGroup,
            value: choice.value,
            checked: choice.value === preset,
            on: { change: () => choose(choice.value) },
          }),
          h("span", {}, choice.label),
        ),
      ),
    );

    function choose(value) {
      preset = value;
      issuer.value = value === "github" ? GITHUB_ISSUER : value === "gitlab" ? GITLAB_ISSUER : "";
      // GitHub's issuer is one URL; GitLab's differs on a self-managed instance; a custom one is typed.
      issuer.readOnly = value === "github";
      repositoryField.querySelector("label").textContent = value === "gitlab" ? "Project" : "Repository";
      repository.placeholder = value === "gitlab" ? "acme/agent (the project path)" : "acme/agent";
      repository.required = value !== "custom";
      for (const part of [repositoryField, branchField, environmentField]) part.hidden = value === "custom";
      claimsField.hidden = value !== "custom";
      if (value === "custom") claimsBox.focus();
      else repository.focus();
    }

    function close() {
      state.formOpen = false;
      formSlot.replaceChildren();
      newPolicy?.focus();
    }

    async function create(event) {
      event.preventDefault();
      error.clear();
      let claims;
      try {
        claims =
          preset === "custom"
            ? parseClaims(claimsBox.value)
            : presetClaims(preset, {
                repository: repository.value.trim(),
                branch: branch.value.trim(),
                environment: environment.value.trim(),
              });
      } catch (err) {
        error.show({ status: 0, message: err.message });
        return;
      }
      submit.disabled = true;
      try {
        await api("/org/trust-policies", {
          method: "POST",
          body: {
            name: name.value.trim(),
            issuer: issuer.value.trim(),
            audience: audience.value.trim(),
            claims,
            access: access.value,
            ttlSeconds: Number(lifetime.value),
          },
        });
        close();
        await loadPolicies();
      } catch (err) {
        error.show(err);
        submit.disabled = false;
      }
    }

    claimsField.hidden = true;
    formSlot.replaceChildren(
      h(
        "form",
        { class: "card form-card", "aria-labelledby": titleId, on: { submit: create } },
        h("h2", { id: titleId }, "New trust policy"),
        h("fieldset", { class: "field choices-field" }, h("legend", { class: "fieldset-legend" }, "CI provider"), presets),
        field("Issuer", issuer, { hint: "The iss of the provider's ID tokens." }),
        repositoryField,
        branchField,
        environmentField,
        claimsField,
        field("Name", name, { hint: "Shown with each key a job gets: “via main branch CI”." }),
        field("Audience", audience, {
          hint: "What the job asks its token for: the SDKs ask for provenant unless PROVENANT_OIDC_AUDIENCE says otherwise.",
        }),
        field("Access", access, { hint: "Never more than your own role allows, now and as it changes." }),
        field("Keys live", lifetime, { hint: "The SDKs exchange a new token shortly before a key expires." }),
        error.node,
        h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: close } })),
      ),
    );
    repository.focus();
  }

  return {
    node,
    load: loadPolicies,
    /** The page's keys (keys.js), of which this section shows the ones CI jobs hold now. */
    showKeys(keys) {
      state.keys = keys;
      renderKeys();
    },
  };
}
