// Sign in's other ways in, as GET /api/auth/config offers them: "Sign in with SSO" (the organization's identity
// provider, found by the email's domain) and "Sign in with GitHub". Both leave for the provider and come back
// to /sso-complete (pages/sso-complete.js).
//
//   providerButtons({email, error, config})  the buttons, under an "or"; null when the server offers neither
//       email   Sign in's Email input (SSO starts with its value)
//       error   Sign in's errorSlot, where a refusal is shown

import { button, h } from "../dom.js";

export function providerButtons({ email, error, config }) {
  if (!config.sso && !config.github) return null;
  async function startSso() {
    error.clear();
    const address = email.value.trim();
    if (!address || !email.checkValidity()) {
      error.show({ status: 400, message: "Enter your work email address, then choose Sign in with SSO." });
      email.focus();
      return;
    }
    const start = `/api/auth/sso/start?${new URLSearchParams({ email: address })}`;
    // Asked first without following: a domain no organization signs in with answers 404 here, on this page,
    // instead of a page of JSON; a configured one answers the redirect, which the browser then follows itself.
    try {
      const response = await fetch(start, { redirect: "manual", credentials: "omit" });
      if (response.type !== "opaqueredirect") {
        const body = await response.json().catch(() => ({}));
        const known = body.code === "sso_not_configured";
        error.show({ status: response.status, message: known ? "No organization signs in with single sign-on for that email address's domain." : body.error || `The server answered ${response.status}.` });
        return;
      }
    } catch (err) {
      error.show(err);
      return;
    }
    location.assign(start);
  }
  return h(
    "div",
    { class: "sign-in-providers" },
    h("p", { class: "divider" }, h("span", {}, "or")),
    config.sso ? button("Sign in with SSO", { class: "button-block", on: { click: startSso } }) : null,
    // A plain link: the browser leaves for GitHub (app.js lets /api/ links through).
    config.github ? h("a", { class: "button button-block", href: "/api/auth/github" }, "Sign in with GitHub") : null,
  );
}
