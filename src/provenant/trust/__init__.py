"""Trusted CI: trust policies, and the exchange of a CI job's OpenID Connect ID token for a key that
lives minutes (the contract's "Trusted CI: keys without stored secrets")."""
