"""OpenID Connect as a relying party: fetching an issuer's discovery document and keys under the
server's outbound address rules (``fetch``), and verifying the ID tokens it signs (``tokens``).

Trusted CI (``trust``) uses it today; single sign-on uses the same rules, so they live here, knowing
nothing of either.
"""
