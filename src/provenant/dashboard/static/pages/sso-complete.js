// /sso-complete: where a sign-in through the organization's identity provider (single sign-on) or GitHub ends.
// The server's callback sends the browser here with ?code=<one-time code> (never a JWT in a URL), which this
// page exchanges once (POST /api/auth/sso/exchange) for the JWT, kept in localStorage as Sign in keeps it; or
// with ?error=<reason>, which it words for people. The code leaves the address bar before it is sent, so a
// reload, the history or a shared screen never offers it again.

import { api } from "../api.js";
import { banner, h, mount } from "../dom.js";
import { renderCodeStep } from "./signin-code.js";

// The reasons the server's callbacks give (provenant.sign_in.refusals), in the words of this page.
const REASONS = {
  invalid_state: "The sign-in was not started in this browser, or took longer than 10 minutes. Start again.",
  cancelled: "The sign-in was cancelled at the identity provider.",
  provider_error: "The identity provider refused the sign-in.",
  provider_unreachable: "The identity provider could not be reached, or answered something unusable. Try again in a moment, or tell your administrator.",
  invalid_id_token: "The identity provider's answer could not be verified. Tell your administrator.",
  email_not_verified: "Your identity provider does not say that your email address is verified.",
  email_domain_mismatch: "Your email address is not in a domain your organization signs in with.",
  account_in_another_org: "An account with your email address belongs to another organization. Ask an Owner of this one to invite you.",
  sso_not_configured: "Single sign-on is no longer configured for your organization.",
  sso_required: "Your organization signs in with single sign-on: use Sign in with SSO.",
  github_not_configured: "Sign in with GitHub is not configured on this server.",
  github_email_unverified: "Your GitHub account has no primary, verified email address. Verify it at GitHub, then try again.",
  signup_disabled: "This server does not take new registrations. Ask to be invited.",
  no_organization: "Your account belongs to no organization any more. Ask to be invited.",
  try_again: "Another sign-in of yours was finishing at the same moment. Try again.",
};
const UNKNOWN_REASON = "The sign-in did not finish. Try again.";

export async function render(container, ctx) {
  const code = ctx.query.get("code");
  const reason = ctx.query.get("error");
  history.replaceState(null, "", "/sso-complete");

  function failed(message) {
    container.replaceChildren();
    mount(
      container,
      h("div", {}, h("h1", {}, "Sign-in did not finish")),
      banner("error", h("p", {}, message)),
      h("p", { class: "auth-footer" }, h("a", { href: "/signin" }, "Back to Sign in")),
    );
  }

  if (!code) {
    failed(Object.hasOwn(REASONS, reason || "") ? REASONS[reason] : UNKNOWN_REASON);
    return;
  }
  mount(container, h("div", {}, h("h1", {}, "Signing you in…")), h("p", { class: "lede", role: "status" }, "One moment."));
  let result;
  try {
    result = await api("/auth/sso/exchange", { method: "POST", body: { code }, auth: false });
  } catch (err) {
    failed(err.status === undefined ? "Could not reach the Provenant server. Sign in again." : err.message);
    return;
  }
  if (result.mfaRequired) {
    // The provider vouched for the first factor; the account's second one is asked for as after a password.
    renderCodeStep(container, {
      mfaToken: result.mfaToken,
      signIn: ctx.signIn,
      restart: (message) => ctx.navigate("/signin", { replace: true, force: true, message }),
    });
    return;
  }
  await ctx.signIn(result.token, "/");
}
