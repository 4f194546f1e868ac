// Forgot password: the email to send a reset link to. The answer never says whether the address has an
// account (the server answers alike); the page says so too.

import { api } from "../api.js";
import { authConfig } from "../authconfig.js";
import { banner, button, errorSlot, field, h, mount } from "../dom.js";

export async function render(container) {
  const config = await authConfig();
  const heading = h("div", {}, h("h1", {}, "Forgot password?"));
  const back = h("p", { class: "auth-footer" }, h("a", { href: "/signin" }, "Back to sign in"));
  if (!config.passwordReset) {
    mount(container,
      heading,
      banner(
        "info",
        h("p", {}, "This server does not send email, so it cannot send you a reset link."),
        h("p", {}, "Ask an Owner or Admin of your organization to issue you one from the Team page."),
      ),
      back,
    );
    return;
  }
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, maxlength: 320 });
  const submit = button("Send reset link", { type: "submit", kind: "primary" });
  const error = errorSlot({ email: "Email" });
  const form = h(
    "form",
    { class: "form", on: { submit: send } },
    field("Email", email),
    error.node,
    h("div", { class: "form-actions" }, submit),
  );

  async function send(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      await api("/auth/forgot-password", { method: "POST", body: { email: email.value.trim() }, auth: false });
      form.replaceWith(
        banner(
          "success",
          h("p", {}, "If an account exists for that address, we sent a link to it."),
          h("p", {}, "The link works once, for one hour. Nothing arrived? Check your spam folder, or ask again."),
        ),
      );
    } catch (err) {
      error.show(err);
      submit.disabled = false;
    }
  }

  mount(container,
    h("div", {}, h("h1", {}, "Forgot password?"), h("p", { class: "lede" }, "We'll email you a link to choose a new one.")),
    form,
    back,
  );
  email.focus();
}
