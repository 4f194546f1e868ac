"""Why a sign-in through a provider ended without a session: a code the dashboard's ``/sso-complete`` page
shows a sentence for. The callback redirects there with ``?error=<code>``; it never answers JSON, nor a 500.
"""

from urllib.parse import urlencode

# Every code the callbacks may send, and what it means (the dashboard words it for people).
REASONS = {
    "invalid_state": "The sign-in was not started in this browser, or took longer than 10 minutes: start again.",
    "cancelled": "The sign-in was cancelled at the provider.",
    "provider_error": "The identity provider refused the sign-in.",
    "provider_unreachable": "The identity provider could not be reached, or answered something unusable.",
    "invalid_id_token": "The identity provider's answer could not be verified.",
    "email_not_verified": "The provider does not say that your email address is verified.",
    "email_domain_mismatch": "Your email address is not in a domain your organization signs in with.",
    "account_in_another_org": "An account with your email belongs to another organization: ask an OWNER of "
    "this one to invite you.",
    "sso_not_configured": "Single sign-on is no longer configured for your organization.",
    "sso_required": "Your organization signs in with single sign-on: use Sign in with SSO.",
    "github_not_configured": "Sign in with GitHub is not configured on this server.",
    "github_email_unverified": "Your GitHub account has no primary, verified email address.",
    "signup_disabled": "This server does not take new registrations: ask to be invited.",
    "no_organization": "Your account belongs to no organization any more: ask to be invited.",
    "try_again": "Another sign-in of yours was finishing at the same moment: try again.",
}

COMPLETE_PATH = "/sso-complete"


class SignInRefused(Exception):
    def __init__(self, reason: str) -> None:
        assert reason in REASONS
        super().__init__(reason)
        self.reason = reason


def complete_url(*, code: str | None = None, error: str | None = None) -> str:
    """Where the browser goes when a provider's sign-in ends: the code to exchange, or why not."""
    return f"{COMPLETE_PATH}?{urlencode({'code': code} if code is not None else {'error': error})}"
