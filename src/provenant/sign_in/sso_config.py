"""An organization's single sign-on configuration: saved by its OWNER after the provider's discovery document
was fetched and checked; the client secret encrypted, never given back; each domain claimed by one org.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth.encryption import EncryptionKey, decrypt, encrypt
from provenant.auth.principal import Principal
from provenant.auth.roles import Role
from provenant.errors import Conflict, NotFound, ValidationFailed
from provenant.models import SsoConfig, SsoDomain
from provenant.oidc.fetch import AddressRules, FetchFailed, FetchRefused, fetch_json
from provenant.sign_in.domains import PUBLIC_MAIL_DOMAINS, BadDomain, normalise


class SsoNotConfigured(NotFound):
    def __init__(self) -> None:
        super().__init__("Single sign-on configuration", code="sso_not_configured")


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the server takes from a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    token_auth_method: str


@dataclass(frozen=True, slots=True)
class SsoSettings:
    """A configuration as it is shown: without the secret."""

    issuer: str
    client_id: str
    domains: list[str]
    default_role: str
    enforce: bool
    created_at: datetime
    updated_at: datetime
    client_secret_set: bool = True


def _secret_purpose(org_id: str) -> str:
    return f"sso-client-secret:{org_id}"


def client_secret(key: EncryptionKey, config: SsoConfig) -> str:
    return decrypt(key, config.client_secret, purpose=_secret_purpose(config.org_id))


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed("issuer", message)


async def discover(rules: AddressRules, issuer: str) -> Discovery:
    """The provider's discovery document, fetched and checked (422 naming ``issuer`` when it will not do)."""
    try:
        rules.check_url(issuer)
        document = await fetch_json(rules, issuer.rstrip("/") + "/.well-known/openid-configuration")
    except (FetchRefused, FetchFailed) as failure:
        raise _refused(f"its discovery document could not be used: {failure}") from None
    if document.get("issuer") != issuer:
        named = document.get("issuer")
        raise _refused(
            f"the discovery document names the issuer {str(named)[:200]!r}: enter exactly that"
            if isinstance(named, str)
            else "the discovery document names no issuer"
        )
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = document.get(name)
        if not isinstance(url, str) or len(url) > 1000:
            raise _refused(f"the discovery document has no usable {name}")
        try:
            rules.check_url(url)  # the server fetches two of them, a browser is sent to the third
        except FetchRefused as refused:
            raise _refused(f"its {name} {refused}") from None
        endpoints[name] = url
    if "code" not in document.get("response_types_supported", ["code"]):
        raise _refused("the provider does not offer the authorization code flow")
    if "S256" not in document.get("code_challenge_methods_supported", ["S256"]):
        raise _refused("the provider does not offer PKCE with S256")
    methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    method = next((m for m in ("client_secret_basic", "client_secret_post") if m in methods), None)
    if method is None:
        raise _refused("the provider takes no client secret at its token endpoint (basic or post)")
    try:
        await fetch_json(rules, endpoints["jwks_uri"])
    except (FetchRefused, FetchFailed) as failure:
        raise _refused(f"its signing keys (jwks_uri) could not be fetched: {failure}") from None
    return Discovery(issuer=issuer, token_auth_method=method, **endpoints)


def normalise_domains(domains: list[str]) -> list[str]:
    result: list[str] = []
    for index, domain in enumerate(domains):
        try:
            normalised = normalise(domain)
        except BadDomain as bad:
            raise ValidationFailed(f"domains.{index}", str(bad)) from None
        if normalised in PUBLIC_MAIL_DOMAINS:
            raise ValidationFailed(
                f"domains.{index}", "is a public mailbox provider's: anyone can have an address there"
            )
        if normalised not in result:
            result.append(normalised)
    return result


def _domains(session: Session, org_id: str) -> list[str]:
    return list(session.scalars(select(SsoDomain.domain).where(SsoDomain.org_id == org_id).order_by(SsoDomain.domain)))


def _shown(session: Session, config: SsoConfig) -> SsoSettings:
    return SsoSettings(
        issuer=config.issuer,
        client_id=config.client_id,
        domains=_domains(session, config.org_id),
        default_role=config.default_role,
        enforce=config.enforce,
        created_at=config.created_at,
        updated_at=config.updated_at,
    )


def read(session: Session, caller: Principal) -> SsoSettings:
    config = session.get(SsoConfig, caller.org_id)
    if config is None:
        raise SsoNotConfigured()
    return _shown(session, config)


def save(
    session: Session,
    caller: Principal,
    key: EncryptionKey,
    discovery: Discovery,
    *,
    client_id: str,
    client_secret: str | None,
    domains: list[str],
    default_role: Role,
    enforce: bool,
) -> SsoSettings:
    """Creates or replaces the org's configuration. The secret may be left out to keep the one stored; 409
    ``domain_taken`` for a domain another org claims."""
    now = datetime.now(UTC)
    config = session.get(SsoConfig, caller.org_id)
    if client_secret is None and config is None:
        raise ValidationFailed("clientSecret", "is required the first time")
    before = (
        None
        if config is None
        else audit.snapshot(_shown(session, config), "issuer", "client_id", "domains", "default_role", "enforce")
    )
    if config is None:
        config = SsoConfig(org_id=caller.org_id, created_at=now)
        session.add(config)
    config.issuer = discovery.issuer
    config.client_id = client_id
    if client_secret is not None:
        config.client_secret = encrypt(key, client_secret, purpose=_secret_purpose(caller.org_id))
    config.authorization_endpoint = discovery.authorization_endpoint
    config.token_endpoint = discovery.token_endpoint
    config.token_auth_method = discovery.token_auth_method
    config.default_role = default_role.value
    config.enforce = enforce
    config.updated_at = now
    session.execute(delete(SsoDomain).where(SsoDomain.org_id == caller.org_id))
    try:
        with session.begin_nested():
            session.add_all(SsoDomain(domain=domain, org_id=caller.org_id) for domain in domains)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "One of these domains is claimed by another organization's single sign-on.", code="domain_taken"
        ) from None
    shown = _shown(session, config)
    audit.record(
        session,
        caller,
        AuditAction.ORG_SSO_UPDATED,
        resource_type="org",
        resource_id=caller.org_id,
        before=before,
        after=audit.snapshot(
            shown,
            "issuer",
            "client_id",
            "domains",
            "default_role",
            "enforce",
            clientSecretChanged=client_secret is not None,
        ),
    )
    return shown


def remove(session: Session, caller: Principal) -> None:
    config = session.get(SsoConfig, caller.org_id)
    if config is None:
        return
    before = audit.snapshot(_shown(session, config), "issuer", "client_id", "domains", "default_role", "enforce")
    session.execute(delete(SsoDomain).where(SsoDomain.org_id == caller.org_id))
    session.delete(config)
    audit.record(
        session, caller, AuditAction.ORG_SSO_DELETED, resource_type="org", resource_id=caller.org_id, before=before
    )
