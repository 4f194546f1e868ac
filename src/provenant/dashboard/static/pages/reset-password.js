// Reset password: a new password for the account behind the link's token (from the email, or from an
// Owner or Admin). The server signs the person in and ends every other session of theirs.

import { api } from "../api.js";
import { banner, button, errorSlot, field, h, mount } from "../dom.js";

export async function render(container, ctx) {
  const token = ctx.query.get("token");
  const heading = h("div", {}, h("h1", {}, "Reset password"), h("p", { class: "lede" }, "Choose a new password"));
  const askAgain = h("a", { href: "/forgot-password" }, "Ask for a new link");
  if (!token) {
    mount(container,
      heading,
      banner("info", h("p", {}, "Open this page from the reset link you were sent."), h("p", {}, askAgain)),
    );
    return;
  }
  // The token leaves the address bar (and so the history); it stays with this page until it is used.
  history.replaceState(null, "", "/reset-password");

  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 8,
    maxlength: 1024,
  });
  const submit = button("Set password and sign in", { type: "submit", kind: "primary" });
  const error = errorSlot({ password: "New password", token: "Link" });

  async function reset(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const result = await api("/auth/reset-password", {
        method: "POST",
        body: { token, password: password.value },
        auth: false,
      });
      await ctx.signIn(result.token, "/agents");
    } catch (err) {
      error.show(err);
      if (err.code === "invalid_reset_token") error.node.append(h("p", {}, askAgain));
      submit.disabled = false;
    }
  }

  mount(container,
    heading,
    h(
      "form",
      { class: "form", on: { submit: reset } },
      field("New password", password, { hint: "8 to 1024 characters, not one of the 10,000 most common passwords." }),
      error.node,
      h("div", { class: "form-actions" }, submit),
    ),
    h("p", { class: "auth-footer" }, "Every other browser signed in as you will be signed out."),
  );
  password.focus();
}
