"""Signing in through a provider: an organization's OpenID Connect identity provider (single sign-on) and
GitHub. Both end the same way: the browser comes back to ``/sso-complete?code=…`` with a one-time code
(``codes``), never a JWT in a URL, and the dashboard exchanges it once for a session."""
