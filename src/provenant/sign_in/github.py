"""Sign in with GitHub (or GitHub Enterprise Server): the OAuth web flow, with ``state`` bound to the browser
and PKCE S256, then the user and their primary, verified email from the REST API.

Its URLs are the operator's settings, not a person's input: the server fetches from those hosts whatever
address they resolve to (a GitHub Enterprise Server on the private network), with ``oidc.fetch``'s timeouts
and size limits.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from provenant.config import Settings
from provenant.oidc.fetch import AddressRules, FetchFailed, FetchRefused, request_json
from provenant.sign_in.oidc_flow import with_query
from provenant.sign_in.pending import Pending
from provenant.sign_in.refusals import SignInRefused

CALLBACK_PATH = "/api/auth/github/callback"
SCOPE = "read:user user:email"


@dataclass(frozen=True, slots=True)
class GitHubUser:
    id: int
    login: str
    name: str | None
    email: str


def rules(settings: Settings) -> AddressRules:
    """Only the two configured hosts, whatever they resolve to (the operator chose them)."""
    hosts = (urlsplit(settings.github_url).hostname, urlsplit(settings.github_api_url).hostname)
    return AddressRules.of(host for host in hosts if host)


def authorization_url(settings: Settings, pending: Pending, *, redirect_uri: str) -> str:
    assert settings.github_client_id is not None
    return with_query(
        f"{settings.github_url}/login/oauth/authorize",
        {
            "client_id": settings.github_client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": pending.state,
            "code_challenge": pending.code_challenge,
            "code_challenge_method": "S256",
            "allow_signup": "false",
        },
    )


async def _get(settings: Settings, path: str, token: str) -> Any:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    return await request_json(rules(settings), f"{settings.github_api_url}{path}", headers=headers)


async def finish(settings: Settings, pending: Pending, *, code: str, redirect_uri: str) -> GitHubUser:
    """The GitHub user who authorized, with their primary verified email; SignInRefused otherwise."""
    assert settings.github_client_id is not None and settings.github_client_secret is not None
    form = {
        "client_id": settings.github_client_id,
        "client_secret": settings.github_client_secret.get_secret_value(),
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pending.verifier,
    }
    try:
        answer = await request_json(rules(settings), f"{settings.github_url}/login/oauth/access_token", form=form)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            # GitHub answers 200 with {"error": "bad_verification_code"} for a used or made-up code.
            raise SignInRefused("provider_error")
        user = await _get(settings, "/user", token)
        emails = await _get(settings, "/user/emails", token)
    except (FetchRefused, FetchFailed):
        raise SignInRefused("provider_unreachable") from None
    if not isinstance(user, dict) or not isinstance(user.get("id"), int) or not isinstance(user.get("login"), str):
        raise SignInRefused("provider_unreachable")
    verified = [
        entry["email"]
        for entry in (emails if isinstance(emails, list) else [])
        if isinstance(entry, dict)
        and entry.get("primary") is True
        and entry.get("verified") is True
        and isinstance(entry.get("email"), str)
        and 3 <= len(entry["email"]) <= 320
    ]
    if not verified:
        raise SignInRefused("github_email_unverified")
    name = user.get("name")
    return GitHubUser(
        id=user["id"],
        login=user["login"],
        name=name if isinstance(name, str) and name.strip() else None,
        email=verified[0],
    )
