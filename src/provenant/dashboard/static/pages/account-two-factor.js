// Account, "Two-factor sign-in": set up an authenticator app (QR code, or the secret typed in), confirm it with
// a code, keep the recovery codes (Copy, Download), get new ones or turn it off (both need the password).
//
//   twoFactorSection(ctx) → a <section>; ctx.me.twoFactor says where it starts. The secret and the recovery
//   codes live only in the page while shown: nothing of them is stored in the browser.
//
// The QR code is an SVG data: URI made by the server, shown in an <img> (the CSP allows img-src data:).

import { api } from "../api.js";
import { banner, button, copyButton, errorSlot, field, h, uniqueId } from "../dom.js";

export function twoFactorSection(ctx) {
  const state = { on: ctx.me.twoFactor };
  const body = h("div", { class: "two-factor-body" });
  const section = h(
    "section",
    { class: "card two-factor", id: "two-factor", "aria-labelledby": "two-factor-title" },
    h("h2", { id: "two-factor-title" }, "Two-factor sign-in"),
    body,
  );

  function required() {
    return ctx.me.twoFactorRequired && !state.on
      ? banner(
          "warning",
          h("p", {}, `${ctx.me.org.name} requires two-factor sign-in. Set it up to go on using the dashboard.`),
        )
      : null;
  }

  // ---- off: the first step ------------------------------------------------------------------------

  function showOff() {
    const error = errorSlot();
    const start = button("Set up two-factor sign-in", { kind: "primary", on: { click: begin } });
    async function begin() {
      start.disabled = true;
      error.clear();
      try {
        showSetup(await api("/auth/2fa/totp", { method: "POST" }));
      } catch (err) {
        error.show(err);
        start.disabled = false;
      }
    }
    body.replaceChildren(
      required() || "",
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

  // ---- setup: scan, then confirm with a code --------------------------------------------------------

  function showSetup(setup) {
    const code = h("input", {
      type: "text",
      name: "code",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      maxlength: 7,
      required: true,
    });
    const submit = button("Confirm", { type: "submit", kind: "primary" });
    const error = errorSlot({ code: "Code" });
    const secretId = uniqueId("totp-secret");

    async function confirm(event) {
      event.preventDefault();
      error.clear();
      submit.disabled = true;
      try {
        const result = await api("/auth/2fa/totp/confirm", { method: "POST", body: { code: code.value.trim() } });
        state.on = true;
        ctx.onChange?.(true);
        showCodes(result.recoveryCodes, "Two-factor sign-in is on.");
      } catch (err) {
        error.show(err);
        code.value = "";
        code.focus();
        submit.disabled = false;
      }
    }

    body.replaceChildren(
      required() || "",
      h(
        "ol",
        { class: "two-factor-steps" },
        h(
          "li",
          {},
          h("p", {}, "Scan this QR code with your authenticator app."),
          h("img", {
            class: "qr-code",
            src: setup.qrCode,
            width: 200,
            height: 200,
            alt: "QR code of the two-factor secret, for your authenticator app",
          }),
          h("p", { class: "hint", id: secretId }, "Can't scan it? Enter this secret in the app instead:"),
          h(
            "div",
            { class: "banner-row" },
            h("code", { class: "secret totp-secret", "aria-describedby": secretId }, setup.secret),
            copyButton(setup.secret),
          ),
        ),
        h(
          "li",
          {},
          h(
            "form",
            { class: "form account-form", on: { submit: confirm }, "aria-label": "Confirm two-factor sign-in" },
            field("Enter the 6-digit code the app shows", code),
            error.node,
            h(
              "div",
              { class: "form-actions" },
              submit,
              button("Cancel", { kind: "ghost", on: { click: showOff } }),
            ),
          ),
        ),
      ),
    );
    code.focus();
  }

  // ---- the recovery codes, shown once --------------------------------------------------------------

  function download(codes) {
    const text = [
      `Provenant recovery codes for ${ctx.me.email} (${ctx.me.org.name})`,
      "Each code signs you in once if you lose your authenticator app. Keep them somewhere safe.",
      "",
      ...codes,
      "",
    ].join("\n");
    const link = h("a", {
      href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
      download: "provenant-recovery-codes.txt",
    });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  function showCodes(codes, headline) {
    const done = button("Done", { kind: "primary", on: { click: showOn } });
    body.replaceChildren(
      banner(
        "success",
        h("h3", { tabindex: "-1" }, headline),
        h(
          "p",
          {},
          "Save these recovery codes now: they are shown only this once. Each one signs you in once if you lose ",
          "your authenticator app.",
        ),
        h("ul", { class: "recovery-codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
        h(
          "div",
          { class: "banner-row" },
          copyButton(codes.join("\n"), "Copy"),
          button("Download", { on: { click: () => download(codes) } }),
        ),
      ),
      h("div", { class: "form-actions" }, done),
    );
    body.querySelector("h3").focus();
  }

  // ---- on: new recovery codes, or off; both need the password ---------------------------------------

  function passwordForm({ label, submitLabel, danger, hint, act }) {
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
      h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: showOn } })),
    );
    return { form, focus: () => password.focus() };
  }

  function showOn() {
    const slot = h("div");
    const regenerate = button("Regenerate recovery codes", {
      on: {
        click: () => {
          const { form, focus } = passwordForm({
            label: "Regenerate recovery codes",
            submitLabel: "Regenerate",
            hint: "A new set of 10 codes replaces the old one: the old codes stop working. Enter your password.",
            act: async (password) => {
              const result = await api("/auth/2fa/recovery-codes", { method: "POST", body: { password } });
              showCodes(result.recoveryCodes, "New recovery codes");
            },
          });
          slot.replaceChildren(form);
          focus();
        },
      },
    });
    const turnOff = button("Turn off", {
      kind: "danger",
      on: {
        click: () => {
          const { form, focus } = passwordForm({
            label: "Turn off two-factor sign-in",
            submitLabel: "Turn off two-factor sign-in",
            danger: true,
            hint: ctx.me.twoFactorRequired
              ? `${ctx.me.org.name} requires two-factor sign-in: once it is off, you must set it up again before doing anything else. Enter your password.`
              : "Signing in will need only your password again. Enter your password.",
            act: async (password) => {
              await api("/auth/2fa", { method: "DELETE", body: { password } });
              state.on = false;
              ctx.onChange?.(false);
              showOff();
            },
          });
          slot.replaceChildren(form);
          focus();
        },
      },
    });
    body.replaceChildren(
      h(
        "p",
        {},
        h("span", { class: "badge badge-active" }, "On"),
        " Signing in needs your password and a code from your authenticator app, or one of your recovery codes.",
      ),
      h("div", { class: "form-actions" }, regenerate, turnOff),
      slot,
    );
  }

  if (state.on) showOn();
  else showOff();
  return section;
}
