// Trusted CI, on the API Keys page: the trust policies that let CI jobs exchange their provider's ID token
// for a key that lives minutes (no secret stored in CI), New policy (trusted-ci-form.js), and the keys CI
// jobs hold now, apart from the long-lived ones.
//
// keys.js owns the page and its list of keys; this section gets the keys from it (showKeys) and asks it to
// reload them after a revocation or a deleted policy (reloadKeys).

import { api } from "../api.js";
import { dateText } from "../components.js";
import { button, confirmThen, emptyState, errorSlot, h, loading, table } from "../dom.js";
import { exactTime, isPast, relativeTime } from "../format.js";
import { canRevokeKey, may } from "../roles.js";
import { GITHUB_ISSUER, GITLAB_ISSUER, policyForm } from "./trusted-ci-form.js";

const ACCESS_SHORT = { ingest: "Ingest only", read: "Read only", full: "Full" };

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
  const claim = ([name, value]) => {
    const prefix = value.endsWith("*");
    return h("li", {}, h("code", {}, name), " ", prefix ? "starts with " : "= ", h("code", {}, prefix ? value.slice(0, -1) : value));
  };
  return h("ul", { class: "claims" }, Object.entries(claims).map(claim));
}

// ---- the section's one state object ---------------------------------------------------------------------

function sectionState(ctx, reloadKeys) {
  const readPolicies = may(ctx.me, "read_trust_policies");
  const section = {
    ctx,
    reloadKeys,
    readPolicies,
    manage: may(ctx.me, "manage_trust_policies"),
    policies: [],
    keys: [],
    form: null,
    formSlot: h("div", { class: "slot" }),
    errors: errorSlot(),
    policiesSlot: h("div", { class: "slot" }, readPolicies ? loading("Loading policies…") : null),
    keysSlot: h("div", { class: "slot" }),
  };
  section.newPolicy = section.manage
    ? button("New policy", { kind: "primary", on: { click: () => openForm(section) } })
    : null;
  return section;
}

function sectionNode(section) {
  return h(
    "section",
    { class: "section trusted-ci", "aria-labelledby": "trusted-ci-title" },
    h("div", { class: "section-header" }, h("h2", { id: "trusted-ci-title" }, "Trusted CI"), section.newPolicy),
    h(
      "p",
      { class: "lede muted" },
      "CI jobs exchange the ID token their provider gives them for a key that lives minutes: nothing secret is stored in CI. A policy says whose jobs may.",
    ),
    section.formSlot,
    section.errors.node,
    section.readPolicies ? h("h3", {}, "Policies") : null,
    section.policiesSlot,
    h("h3", {}, "Keys held by CI jobs now"),
    section.keysSlot,
  );
}

// ---- policies ------------------------------------------------------------------------------------------

function deleteButton(section, policy) {
  if (!section.manage) return null;
  return button("Delete", {
    class: "button-small button-danger-text",
    "aria-label": `Delete policy ${policy.name}`,
    on: { click: () => removePolicy(section, policy) },
  });
}

function policyColumns(section) {
  return [
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
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: (policy) => deleteButton(section, policy) },
  ];
}

function renderPolicies(section) {
  if (!section.readPolicies) return;
  if (!section.policies.length) {
    section.policiesSlot.replaceChildren(emptyState("No policies yet: CI jobs need a stored key."));
    return;
  }
  const rowProps = (policy) => ({ dataset: { policyId: policy.id } });
  section.policiesSlot.replaceChildren(table(policyColumns(section), section.policies, { caption: "Trust policies", rowProps }));
}

async function loadPolicies(section) {
  if (!section.readPolicies) return;
  try {
    section.policies = await api("/org/trust-policies");
    section.errors.clear();
  } catch (err) {
    if (!section.ctx.isCurrent()) return;
    section.policiesSlot.replaceChildren();
    section.errors.show(err);
    return;
  }
  renderPolicies(section);
  renderKeys(section);
}

async function removePolicy(section, policy) {
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
      await loadPolicies(section);
      await section.reloadKeys();
    },
    section.errors,
  );
}

function openForm(section) {
  if (section.form) {
    section.form.focus();
    return;
  }
  const close = () => {
    section.form = null;
    section.formSlot.replaceChildren();
    section.newPolicy?.focus();
  };
  section.form = policyForm({
    onCreated: async () => {
      close();
      await loadPolicies(section);
    },
    onClose: close,
  });
  section.formSlot.replaceChildren(section.form.node);
  section.form.focus();
}

// ---- the keys CI jobs hold now ----------------------------------------------------------------------------

function policyName(section, key) {
  const policy = section.policies.find((candidate) => candidate.id === key.policyId);
  return policy ? policy.name : "a deleted policy";
}

async function revokeKey(section, key) {
  await confirmThen(
    {
      title: `Revoke “${key.name}”?`,
      message: h("p", {}, "The job holding it is refused from now on; it would need to exchange a new ID token."),
      confirmLabel: "Revoke key",
      danger: true,
    },
    async () => {
      await api(`/org/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      await section.reloadKeys();
    },
    section.errors,
  );
}

function keyColumns(section) {
  const expires = (key) => h("time", { datetime: key.expiresAt, title: exactTime(key.expiresAt) }, relativeTime(key.expiresAt));
  const revoke = (key) =>
    canRevokeKey(section.ctx.me, key)
      ? button("Revoke", {
          class: "button-small button-danger-text",
          "aria-label": `Revoke ${key.name}`,
          on: { click: () => revokeKey(section, key) },
        })
      : null;
  return [
    {
      label: "Job",
      cell: (key) => [
        h("div", { class: "name" }, key.name),
        h("div", { class: "sub ephemeral-via" }, `via ${policyName(section, key)}, expires `, expires(key)),
      ],
    },
    { label: "Key", class: "nowrap", cell: (key) => h("code", {}, `pk_live_${key.keyPrefix}…`) },
    { label: h("span", { class: "visually-hidden" }, "Actions"), class: "actions", cell: revoke },
  ];
}

function renderKeys(section) {
  const live = section.keys.filter((key) => key.ephemeral && !key.revokedAt && !isPast(key.expiresAt));
  if (!live.length) {
    section.keysSlot.replaceChildren(emptyState("No CI job holds a key now."));
    return;
  }
  const rowProps = (key) => ({ dataset: { keyId: key.id } });
  section.keysSlot.replaceChildren(table(keyColumns(section), live, { caption: "Keys held by CI jobs", rowProps }));
}

export function trustedCiSection(ctx, { reloadKeys }) {
  const section = sectionState(ctx, reloadKeys);
  return {
    node: sectionNode(section),
    load: () => loadPolicies(section),
    /** The page's keys (keys.js), of which this section shows the ones CI jobs hold now. */
    showKeys(keys) {
      section.keys = keys;
      renderKeys(section);
    },
  };
}
