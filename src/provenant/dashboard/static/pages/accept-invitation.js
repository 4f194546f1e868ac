// Accept invitation: /accept-invitation?token=… shows the organization and role of the invitation, then
// asks for a name and a new password (new account) or the account's password (existing account).

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

export async function render(container, ctx) {
  const token = ctx.query.get("token") || "";
  if (!token) {
    unusable(container, "This invitation link is incomplete: it has no token. Open the whole link you were sent.");
    return;
  }
  const waiting = loading("Opening the invitation…");
  mount(container, waiting);
  let preview;
  try {
    preview = await api(`/auth/invitations/${encodeURIComponent(token)}`, { auth: false });
  } catch (err) {
    waiting.remove();
    if (err.status === 404 || err.status === 410) {
      unusable(container, UNUSABLE[err.code] || UNUSABLE.not_found);
    } else {
      mount(container, h("h1", {}, "Accept invitation"), errorMessage(err));
    }
    return;
  }
  waiting.remove();

  const existing = Boolean(preview.existingAccount);
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: 200 });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: existing ? "current-password" : "new-password",
    required: true,
    minlength: existing ? undefined : 8,
    maxlength: 1024,
  });
  const submit = button(existing ? "Join organization" : "Create account and join", { type: "submit", kind: "primary" });
  const error = errorSlot({ name: "Name", password: "Password" });

  async function accept(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const body = { token, password: password.value };
      if (!existing) body.name = name.value.trim();
      const result = await api("/auth/accept-invitation", { method: "POST", body, auth: false });
      clearToken();
      await ctx.signIn(result.token, "/agents");
    } catch (err) {
      if (err.status === 404 || err.status === 410) {
        container.replaceChildren();
        unusable(container, UNUSABLE[err.code] || UNUSABLE.not_found);
        return;
      }
      error.show(err);
      submit.disabled = false;
    }
  }

  mount(container,
    h(
      "div",
      {},
      h("h1", {}, "Accept invitation"),
      h(
        "p",
        { class: "lede" },
        "You are invited to join ",
        h("strong", {}, preview.org.name),
        " as ",
        h("strong", {}, roleLabel(preview.role)),
        ".",
      ),
    ),
    h(
      "form",
      { class: "form", on: { submit: accept } },
      field("Email", h("input", { type: "email", value: preview.email, readonly: true, autocomplete: "username" })),
      existing ? null : field("Name", name),
      field("Password", password, {
        hint: existing
          ? "This email already has a Provenant account: enter its password. The account moves to this organization."
          : "Choose a password of at least 8 characters.",
      }),
      error.node,
      h("div", { class: "form-actions" }, submit),
    ),
  );
  (existing ? password : name).focus();
}
