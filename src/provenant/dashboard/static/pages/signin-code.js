// Sign in, second step, for an account with two-factor sign-in on: the 6-digit code from the authenticator
// app, or a recovery code instead. POST /api/auth/login/2fa with the mfaToken the password step answered
// (kept in this closure only, never stored: it lives 5 minutes and works for 5 codes).
//
//   renderCodeStep(container, {mfaToken, signIn, restart})
//       signIn(token)  keeps the JWT and goes on (Sign in's ctx.signIn)
//       restart(message)  back to Email and Password (the mfaToken expired or was spent)

import { api } from "../api.js";
import { button, errorSlot, field, h, mount } from "../dom.js";

const MODES = {
  totp: {
    lede: "Enter the 6-digit code from your authenticator app.",
    label: "Authentication code",
    input: { inputmode: "numeric", autocomplete: "one-time-code", maxlength: 7, placeholder: "123456" },
    switchTo: "recovery",
    switchLabel: "Use a recovery code instead",
  },
  recovery: {
    lede: "Enter one of the recovery codes you saved when you turned on two-factor sign-in. Each works once.",
    label: "Recovery code",
    input: { autocomplete: "off", spellcheck: "false", autocapitalize: "off", maxlength: 64, placeholder: "xxxx-xxxx-xxxx" },
    switchTo: "totp",
    switchLabel: "Use your authenticator app instead",
  },
};

export function renderCodeStep(container, { mfaToken, signIn, restart }) {
  function show(mode) {
    const spec = MODES[mode];
    const code = h("input", { type: "text", name: "code", required: true, ...spec.input });
    const submit = button("Verify", { type: "submit", kind: "primary" });
    const error = errorSlot({ code: spec.label });

    async function verify(event) {
      event.preventDefault();
      error.clear();
      submit.disabled = true;
      try {
        const result = await api("/auth/login/2fa", {
          method: "POST",
          body: { mfaToken, code: code.value.trim() },
          auth: false,
        });
        await signIn(result.token);
      } catch (err) {
        if (err.code === "invalid_mfa_token") {
          restart("That sign-in has expired or had too many wrong codes. Sign in again.");
          return;
        }
        error.show(err);
        code.value = "";
        code.focus();
        submit.disabled = false;
      }
    }

    container.replaceChildren();
    mount(
      container,
      h("div", {}, h("h1", {}, "Two-factor sign-in"), h("p", { class: "lede" }, spec.lede)),
      h(
        "form",
        { class: "form", on: { submit: verify }, "aria-label": "Two-factor sign-in" },
        field(spec.label, code),
        error.node,
        h("div", { class: "form-actions" }, submit),
      ),
      h(
        "p",
        { class: "auth-footer" },
        h("button", { type: "button", class: "link-button", on: { click: () => show(spec.switchTo) } }, spec.switchLabel),
        " · ",
        h("button", { type: "button", class: "link-button", on: { click: () => restart(null) } }, "Start over"),
      ),
    );
    code.focus();
  }

  show("totp");
}
