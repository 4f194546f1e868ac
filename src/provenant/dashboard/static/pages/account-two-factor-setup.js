// Setting up two-factor sign-in, on Account: scan the QR code (or type the secret in), confirm with a code,
// then keep the recovery codes, shown once (Copy, Download). Regenerating the codes shows them the same way.
//
//   showSetup(tf, setup)          setup: POST /api/auth/2fa/totp's answer {secret, qrCode}
//   showCodes(tf, codes, headline)
// tf is the section's state (account-two-factor.js): {ctx, on, body, showOff(), showOn()}.
// The QR code is an SVG data: URI made by the server, shown in an <img> (the CSP allows img-src data:).

import { api } from "../api.js";
import { banner, button, copyButton, errorSlot, field, h, uniqueId } from "../dom.js";

function download(tf, codes) {
  const { email, org } = tf.ctx.me;
  const text = [
    `Provenant recovery codes for ${email} (${org.name})`,
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

export function showCodes(tf, codes, headline) {
  const title = h("h3", { tabindex: "-1" }, headline);
  tf.body.replaceChildren(
    banner(
      "success",
      title,
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
        button("Download", { on: { click: () => download(tf, codes) } }),
      ),
    ),
    h("div", { class: "form-actions" }, button("Done", { kind: "primary", on: { click: tf.showOn } })),
  );
  title.focus();
}

function scanStep(setup) {
  const secretId = uniqueId("totp-secret");
  return h(
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
  );
}

function confirmStep(tf) {
  const code = h("input", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 7, required: true });
  const submit = button("Confirm", { type: "submit", kind: "primary" });
  const error = errorSlot({ code: "Code" });
  async function confirm(event) {
    event.preventDefault();
    error.clear();
    submit.disabled = true;
    try {
      const result = await api("/auth/2fa/totp/confirm", { method: "POST", body: { code: code.value.trim() } });
      tf.on = true;
      tf.ctx.onChange?.(true);
      showCodes(tf, result.recoveryCodes, "Two-factor sign-in is on.");
    } catch (err) {
      error.show(err);
      code.value = "";
      code.focus();
      submit.disabled = false;
    }
  }
  const form = h(
    "form",
    { class: "form account-form", on: { submit: confirm }, "aria-label": "Confirm two-factor sign-in" },
    field("Enter the 6-digit code the app shows", code),
    error.node,
    h("div", { class: "form-actions" }, submit, button("Cancel", { kind: "ghost", on: { click: tf.showOff } })),
  );
  return { node: h("li", {}, form), focus: () => code.focus() };
}

export function showSetup(tf, setup) {
  const confirm = confirmStep(tf);
  tf.body.replaceChildren(tf.required() || "", h("ol", { class: "two-factor-steps" }, scanStep(setup), confirm.node));
  confirm.focus();
}
