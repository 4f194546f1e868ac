// Single sign-on, for OWNERs (/settings/sso): the organization's OpenID Connect provider, GET/PUT/DELETE
// /api/org/sso. "Test discovery" asks the server to fetch and check the issuer's discovery document
// (POST /api/org/sso/discovery, which saves nothing); Save does the same check before it stores anything. The
// client secret is never shown again once stored: leaving its field empty keeps it.
//
// Also, for the Team page:
//   ssoBadge(member)        "SSO" beside the name of a member who joined through single sign-on (member.sso)
//   ssoTeamSection(ctx)     a <section> linking here, for OWNERs signed in with a password; null for others

import { api } from "../api.js";
import {
  banner,
  button,
  confirmDialog,
  errorSlot,
  field,
  h,
  loading,
  mount,
  pageHeader,
  select,
} from "../dom.js";
import { canManageOrgSettings } from "../roles.js";

const CALLBACK_PATH = "/api/auth/sso/callback";
const LABELS = {
  issuer: "Issuer URL",
  clientId: "Client ID",
  clientSecret: "Client secret",
  domains: "Email domains",
  defaultRole: "Role of new members",
};

export function ssoBadge(member) {
  return member.sso ? h("span", { class: "badge badge-sso", title: "Joined through single sign-on" }, "SSO") : null;
}

export function ssoTeamSection(ctx) {
  if (!canManageOrgSettings(ctx.me)) return null;
  return h(
    "section",
    { class: "section", "aria-labelledby": "sso-title" },
    h("div", { class: "section-header" }, h("h2", { id: "sso-title" }, "Single sign-on")),
    h(
      "p",
      { class: "hint" },
      "Let people of your company's email domains sign in through your identity provider (OpenID Connect). ",
      h("a", { href: "/settings/sso" }, "Single sign-on settings"),
    ),
  );
}

function splitDomains(text) {
  return text
    .split(/[\s,]+/)
    .map((domain) => domain.trim())
    .filter(Boolean);
}

export async function render(container, ctx) {
  const slot = h("div", { class: "slot" }, loading("Loading single sign-on…"));
  mount(container, pageHeader("Single sign-on"), slot);
  let config = null;
  try {
    config = await api("/org/sso");
  } catch (err) {
    if (err.code !== "sso_not_configured") throw err;
  }
  if (!ctx.isCurrent()) return;

  const issuer = h("input", { type: "url", name: "issuer", required: true, placeholder: "https://login.example.com", spellcheck: "false" });
  const clientId = h("input", { type: "text", name: "clientId", required: true, autocomplete: "off", spellcheck: "false" });
  const clientSecret = h("input", { type: "password", name: "clientSecret", autocomplete: "new-password" });
  const domains = h("input", { type: "text", name: "domains", required: true, placeholder: "example.com", spellcheck: "false" });
  const defaultRole = select(
    [
      { value: "MEMBER", label: "Member" },
      { value: "VIEWER", label: "Viewer" },
    ],
    { name: "defaultRole" },
  );
  const enforce = h("input", { type: "checkbox", id: "sso-enforce", "aria-describedby": "sso-enforce-hint" });
  const status = h("div", { class: "slot" });
  const discoverySlot = h("div", { class: "slot", "aria-live": "polite" });
  const error = errorSlot(LABELS);
  const save = button("Save", { type: "submit", kind: "primary" });
  const testDiscovery = button("Test discovery", { on: { click: checkDiscovery } });
  const remove = button("Remove single sign-on", { class: "button-danger-text", on: { click: removeConfig } });
  const redirectUri = h("code", {});

  function show(saved) {
    config = saved;
    issuer.value = saved ? saved.issuer : "";
    clientId.value = saved ? saved.clientId : "";
    clientSecret.value = "";
    clientSecret.required = !saved;
    clientSecret.placeholder = saved && saved.clientSecretSet ? "Stored — leave empty to keep it" : "";
    domains.value = saved ? saved.domains.join(", ") : "";
    defaultRole.value = saved ? saved.defaultRole : "MEMBER";
    enforce.checked = saved ? saved.enforce : false;
    // Before anything is saved the server has not said it yet: this dashboard's own address is the one.
    redirectUri.textContent = saved ? saved.redirectUri : location.origin + CALLBACK_PATH;
    remove.hidden = !saved;
    status.replaceChildren(
      saved
        ? banner("info", h("p", {}, `Single sign-on is on for ${saved.domains.join(", ")}.`, saved.enforce ? " Passwords are refused for these domains." : ""))
        : h("p", { class: "hint" }, "Single sign-on is not configured."),
    );
  }

  async function checkDiscovery() {
    error.clear();
    discoverySlot.replaceChildren(loading("Fetching the discovery document…"));
    testDiscovery.disabled = true;
    try {
      const found = await api("/org/sso/discovery", { method: "POST", body: { issuer: issuer.value.trim() } });
      discoverySlot.replaceChildren(
        banner(
          "success",
          h("p", {}, "Discovery works. The provider's endpoints:"),
          h(
            "dl",
            { class: "kv" },
            h("dt", {}, "Sign-in"),
            h("dd", {}, found.authorizationEndpoint),
            h("dt", {}, "Token"),
            h("dd", {}, found.tokenEndpoint),
            h("dt", {}, "Signing keys"),
            h("dd", {}, found.jwksUri),
          ),
        ),
      );
    } catch (err) {
      discoverySlot.replaceChildren();
      error.show(err);
    } finally {
      testDiscovery.disabled = false;
    }
  }

  async function submit(event) {
    event.preventDefault();
    error.clear();
    discoverySlot.replaceChildren();
    save.disabled = true;
    const body = {
      issuer: issuer.value.trim(),
      clientId: clientId.value.trim(),
      domains: splitDomains(domains.value),
      defaultRole: defaultRole.value,
      enforce: enforce.checked,
    };
    if (clientSecret.value) body.clientSecret = clientSecret.value;
    try {
      show(await api("/org/sso", { method: "PUT", body }));
      discoverySlot.replaceChildren(banner("success", h("p", {}, "Saved.")));
    } catch (err) {
      error.show(err);
    } finally {
      save.disabled = false;
    }
  }

  async function removeConfig() {
    const sure = await confirmDialog({
      title: "Remove single sign-on?",
      message: "Nobody can sign in through your identity provider any more. Members who have no password must set one with Forgot password? (or an Owner's reset link).",
      confirmLabel: "Remove",
      danger: true,
    });
    if (!sure) return;
    error.clear();
    try {
      await api("/org/sso", { method: "DELETE" });
      show(null);
      discoverySlot.replaceChildren(banner("success", h("p", {}, "Single sign-on was removed.")));
    } catch (err) {
      error.show(err);
    }
  }

  show(config);
  slot.replaceChildren(
    status,
    h(
      "form",
      { class: "form", on: { submit }, "aria-label": "Single sign-on" },
      field(LABELS.issuer, issuer, { hint: "The provider's issuer: its discovery document is at this address + /.well-known/openid-configuration." }),
      field(LABELS.clientId, clientId),
      field(LABELS.clientSecret, clientSecret, { hint: "Stored encrypted; never shown again." }),
      h("div", { class: "field" }, h("p", { class: "label" }, "Redirect URI"), redirectUri, h("p", { class: "hint" }, "Register this address at your provider as the application's redirect (sign-in) URI.")),
      field(LABELS.domains, domains, { hint: "Comma-separated. People with these email domains sign in through your provider; a domain belongs to one organization." }),
      field(LABELS.defaultRole, defaultRole, { hint: "The role of someone your provider lets in for the first time." }),
      h(
        "div",
        { class: "field" },
        h("div", { class: "setting" }, enforce, h("label", { for: enforce.id }, "Require single sign-on for these domains")),
        h("p", { class: "hint", id: "sso-enforce-hint" }, "Password sign-in and password reset are refused for these email domains."),
      ),
      error.node,
      discoverySlot,
      h("div", { class: "form-actions" }, save, testDiscovery, remove),
    ),
  );
}
