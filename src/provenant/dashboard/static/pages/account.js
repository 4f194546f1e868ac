// Account: two-factor sign-in (pages/account-two-factor.js) and the password. Changing the password: the server answers a fresh token and ends every other session of the
// person (every older token answers 401), so the new token is kept here at once.

import { api, setToken } from "../api.js";
import { banner, button, clear, errorSlot, field, h, mount, pageHeader } from "../dom.js";
import { twoFactorSection } from "./account-two-factor.js";

export async function render(container, ctx) {
  const current = h("input", {
    type: "password",
    name: "currentPassword",
    autocomplete: "current-password",
    required: true,
  });
  const next = h("input", {
    type: "password",
    name: "newPassword",
    autocomplete: "new-password",
    required: true,
    maxlength: 1024,
  });
  const submit = button("Change password", { type: "submit", kind: "primary" });
  const error = errorSlot({ currentPassword: "Current password", newPassword: "New password" });
  const done = h("div");

  async function change(event) {
    event.preventDefault();
    error.clear();
    clear(done);
    submit.disabled = true;
    try {
      const result = await api("/auth/password", {
        method: "POST",
        body: { currentPassword: current.value, newPassword: next.value },
      });
      setToken(result.token);
      current.value = "";
      next.value = "";
      mount(
        done,
        banner(
          "success",
          h("p", {}, "Your password has been changed. Every other browser signed in as you has been signed out."),
        ),
      );
    } catch (err) {
      error.show(err);
    } finally {
      submit.disabled = false;
    }
  }

  mount(
    container,
    pageHeader("Account"),
    h("p", { class: "lede" }, `${ctx.me.name} · ${ctx.me.email}`),
    twoFactorSection(ctx),
    done,
    h(
      "form",
      { class: "form account-form", on: { submit: change }, "aria-label": "Change password" },
      h("h2", {}, "Change password"),
      field("Current password", current),
      field("New password", next, {
        hint: "8 to 1024 characters, not one of the 10,000 most common passwords.",
      }),
      error.node,
      h("div", { class: "form-actions" }, submit),
    ),
  );
}
