// Account, "Two-factor sign-in": off (set it up: account-two-factor-setup.js) or on (new recovery codes, or
// turn it off; both need the password).
//
//   twoFactorSection(ctx) → a <section>; ctx.me.twoFactor says where it starts. The secret and the recovery
//   codes live only in the page while shown: nothing of them is stored in the browser.

import { api } from "../api.js";
import { banner, button, errorSlot, field, h } from "../dom.js";
import { showCodes, showSetup } from "./account-two-factor-setup.js";

function required(tf) {
  const { me } = tf.ctx;
  if (!me.twoFactorRequired || tf.on) return null;
  return banner("warning", h("p", {}, `${me.org.name} requires two-factor sign-in. Set it up to go on using the dashboard.`));
}

function showOff(tf) {
  const error = errorSlot();
  const start = button("Set up two-factor sign-in", { kind: "primary" });
  start.addEventListener("click", async () => {
    start.disabled = true;
    error.clear();
    try {
      showSetup(tf, await api("/auth/2fa/totp", { method: "POST" }));
    } catch (err) {
      error.show(err);
      start.disabled = false;
    }
  });
  tf.body.replaceChildren(
    tf.required() || "",
    h(
      "p",
      {},
      h("span", { class: "badge badge-off" }, "Off"),
      " Signing in needs only your password. With two-factor sign-in on, it also needs a code from an ",
      "authenticator app on your phone (such as Google Authenticator, 1Password or Authy).",
    ),
    error.node,
    h("div", { class: "form-actions" }, start),
  );
}

/** A form that asks for the password, then act(password); a failure is shown beside it and the password emptied. */
function passwordForm(tf, { label, submitLabel, danger, hint, act }) {
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = button(submitLabel, { type: "submit", kind: danger ? "danger" : "primary" });
  const error = errorSlot({ password: "Password" });
  async function send(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      await act(password.value);
    } catch (err) {
      error.show(err);
      password.value = "";
      password.focus();
      submit.disabled = false;
    }
  }
  const form = h(
    "form",
    { class: "form account-form", on: { submit: send }, "aria-label": label },
    h("p", {}, hint),
    field("Password", password),
    error.node,
    h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: tf.showOn } })),
  );
  return { form, focus: () => password.focus() };
}

const REGENERATE = {
  label: "Regenerate recovery codes",
  submitLabel: "Regenerate",
  hint: "A new set of 10 codes replaces the old one: the old codes stop working. Enter your password.",
};

function turnOffQuestion(tf) {
  const { me } = tf.ctx;
  return {
    label: "Turn off two-factor sign-in",
    submitLabel: "Turn off two-factor sign-in",
    danger: true,
    hint: me.twoFactorRequired
      ? `${me.org.name} requires two-factor sign-in: once it is off, you must set it up again before doing anything else. Enter your password.`
      : "Signing in will need only your password again. Enter your password.",
  };
}

function showOn(tf) {
  const slot = h("div");
  const ask = (question, act) => {
    const { form, focus } = passwordForm(tf, { ...question, act });
    slot.replaceChildren(form);
    focus();
  };
  const regenerate = async (password) => {
    const result = await api("/auth/2fa/recovery-codes", { method: "POST", body: { password } });
    showCodes(tf, result.recoveryCodes, "New recovery codes");
  };
  const turnOff = async (password) => {
    await api("/auth/2fa", { method: "DELETE", body: { password } });
    tf.on = false;
    tf.ctx.onChange?.(false);
    tf.showOff();
  };
  tf.body.replaceChildren(
    h(
      "p",
      {},
      h("span", { class: "badge badge-active" }, "On"),
      " Signing in needs your password and a code from your authenticator app, or one of your recovery codes.",
    ),
    h(
      "div",
      { class: "form-actions" },
      button("Regenerate recovery codes", { on: { click: () => ask(REGENERATE, regenerate) } }),
      button("Turn off", { kind: "danger", on: { click: () => ask(turnOffQuestion(tf), turnOff) } }),
    ),
    slot,
  );
}

export function twoFactorSection(ctx) {
  const tf = { ctx, on: ctx.me.twoFactor, body: h("div", { class: "two-factor-body" }) };
  tf.required = () => required(tf);
  tf.showOff = () => showOff(tf);
  tf.showOn = () => showOn(tf);
  if (tf.on) tf.showOn();
  else tf.showOff();
  return h(
    "section",
    { class: "card two-factor", id: "two-factor", "aria-labelledby": "two-factor-title" },
    h("h2", { id: "two-factor-title" }, "Two-factor sign-in"),
    tf.body,
  );
}
