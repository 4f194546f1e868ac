// Sign in: Email, Password, Sign in. The JWT it gets is kept in localStorage (the product's document).

import { api } from "../api.js";
import { authConfig } from "../authconfig.js";
import { banner, button, errorSlot, field, h, mount } from "../dom.js";
import { renderCodeStep } from "./signin-code.js";
import { providerButtons } from "./signin-providers.js";

export async function render(container, ctx) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = button("Sign in", { type: "submit", kind: "primary" });
  const error = errorSlot({ email: "Email", password: "Password" });
  // What the server offers (GET /api/auth/config): a reset link by email, registration. The form does not wait.
  const forgot = h("span", { class: "form-aside" });
  const providers = h("div", { class: "slot" });
  const footer = h("p", { class: "auth-footer" }, "New to Provenant? ", h("a", { href: "/register" }, "Register your organization"));
  authConfig().then((config) => {
    if (!ctx.isCurrent()) return;
    if (config.passwordReset) forgot.append(h("a", { href: "/forgot-password" }, "Forgot password?"));
    providers.replaceChildren(providerButtons({ email, error, config }) || "");
    if (config.signup === "invite-only") footer.replaceChildren("New here? Ask your organization's Owner or Admin for an invitation.");
  });

  async function signIn(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const result = await api("/auth/login", {
        method: "POST",
        body: { email: email.value.trim(), password: password.value },
        auth: false,
      });
      if (result.mfaRequired) {
        // The password was right; two-factor sign-in asks for a code next (pages/signin-code.js).
        const restart = (message) => {
          container.replaceChildren();
          render(container, { ...ctx, flash: message });
        };
        renderCodeStep(container, { mfaToken: result.mfaToken, signIn: ctx.signIn, restart });
        return;
      }
      await ctx.signIn(result.token);
    } catch (err) {
      error.show(err);
      password.value = "";
      password.focus();
      submit.disabled = false;
    }
  }

  mount(container,
    h("div", {}, h("h1", {}, "Sign in"), h("p", { class: "lede" }, "to your Provenant organization")),
    ctx.flash ? banner("info", h("p", {}, ctx.flash)) : null,
    h(
      "form",
      { class: "form", novalidate: false, on: { submit: signIn } },
      field("Email", email),
      field("Password", password),
      error.node,
      h("div", { class: "form-actions" }, submit, forgot),
    ),
    providers,
    footer,
  );
  email.focus();
}
