// Accept invitation: /accept-invitation?token=… shows the organization and role of the invitation, then
// asks for a name and a new password (new account) or the account's password (existing account); an existing
// account that signs in with two factors is asked for its authenticator's code (or a recovery code) as well.

import { api, clearToken } from "../api.js";
import { banner, button, errorMessage, errorSlot, field, h, loading, mount } from "../dom.js";
import { roleLabel } from "../roles.js";

const UNUSABLE = {
  not_found: "This invitation link is not valid. Check that you copied all of it, or ask for a new invitation.",
  invitation_expired: "This invitation has expired: invitations last 7 days. Ask for a new one.",
  invitation_used: "This invitation has already been used. If it was yours, sign in instead.",
  invitation_cancelled: "This invitation was cancelled. Ask an administrator of the organization for a new one.",
};

function unusable(container, text) {
  mount(container,
    h("h1", {}, "Accept invitation"),
    banner("warning", h("p", {}, text)),
    h("p", { class: "auth-footer" }, h("a", { href: "/signin" }, "Go to Sign in")),
  );
}

// An invitation that is unknown (404), or used, cancelled or expired (410).
function isDeadLink(err) {
  return err.status === 404 || err.status === 410;
}

async function loadPreview(container, token) {
  const waiting = loading("Opening the invitation…");
  mount(container, waiting);
  try {
    return await api(`/auth/invitations/${encodeURIComponent(token)}`, { auth: false });
  } catch (err) {
    if (isDeadLink(err)) unusable(container, UNUSABLE[err.code] || UNUSABLE.not_found);
    else mount(container, h("h1", {}, "Accept invitation"), errorMessage(err));
    return null;
  } finally {
    waiting.remove();
  }
}

// The page's one state object: the invitation, its inputs, and whether a second factor is asked for.
function acceptForm(ctx, container, token, preview) {
  const existing = Boolean(preview.existingAccount);
  return {
    ctx,
    container,
    token,
    preview,
    existing,
    asksCode: false,
    name: h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 200 }),
    password: h("input", {
      type: "password",
      name: "password",
      autocomplete: existing ? "current-password" : "new-password",
      required: true,
      minlength: existing ? undefined : 8,
      maxlength: 1024,
    }),
    code: h("input", { type: "text", name: "code", autocomplete: "one-time-code", inputmode: "numeric", maxlength: 64 }),
    codeSlot: h("div", { class: "slot" }),
    submit: button(existing ? "Join organization" : "Create account and join", { type: "submit", kind: "primary" }),
    error: errorSlot({ name: "Name", password: "Password", code: "Authentication code" }),
  };
}

function acceptanceBody(form) {
  const body = { token: form.token, password: form.password.value };
  if (!form.existing) body.name = form.name.value.trim();
  if (form.asksCode) body.code = form.code.value.trim();
  return body;
}

function askForCode(form) {
  form.asksCode = true;
  form.code.required = true;
  mount(form.codeSlot, field("Authentication code", form.code, {
    hint: "This account signs in with two factors: enter the code your authenticator app shows, or a recovery code.",
  }));
  form.code.focus();
}

async function accept(form, event) {
  event.preventDefault();
  form.error.clear();
  form.submit.disabled = true;
  try {
    const result = await api("/auth/accept-invitation", { method: "POST", body: acceptanceBody(form), auth: false });
    clearToken();
    await form.ctx.signIn(result.token, "/agents");
  } catch (err) {
    form.submit.disabled = false;
    if (isDeadLink(err)) {
      form.container.replaceChildren();
      unusable(form.container, UNUSABLE[err.code] || UNUSABLE.not_found);
    } else if (err.code === "two_factor_code_required" && !form.asksCode) {
      askForCode(form);
    } else {
      form.error.show(err);
    }
  }
}

function invitationPage(form) {
  const { preview, existing } = form;
  const invited = h("p", { class: "lede" },
    "You are invited to join ", h("strong", {}, preview.org.name), " as ", h("strong", {}, roleLabel(preview.role)), ".");
  return [
    h("div", {}, h("h1", {}, "Accept invitation"), invited),
    h(
      "form",
      { class: "form", on: { submit: (event) => accept(form, event) } },
      field("Email", h("input", { type: "email", value: preview.email, readonly: true, autocomplete: "username" })),
      existing ? null : field("Name", form.name),
      field("Password", form.password, {
        hint: existing
          ? "This email already has a Provenant account: enter its password. The account moves to this organization."
          : "Choose a password of at least 8 characters.",
      }),
      form.codeSlot,
      form.error.node,
      h("div", { class: "form-actions" }, form.submit),
    ),
  ];
}

export async function render(container, ctx) {
  const token = ctx.query.get("token") || "";
  if (!token) {
    unusable(container, "This invitation link is incomplete: it has no token. Open the whole link you were sent.");
    return;
  }
  const preview = await loadPreview(container, token);
  if (!preview) return;
  const form = acceptForm(ctx, container, token, preview);
  mount(container, ...invitationPage(form));
  (form.existing ? form.password : form.name).focus();
}
