"""The headless first start (``PROVENANT_INIT_*``): an organization, its OWNER and optionally an API key,
created by ``provenant serve`` when they do not exist yet, for compose files and CI.

Idempotent: starting again changes nothing. What exists is left as it is: an existing account's password is
never changed this way (the setting may be stale; the person may have changed it since), and an existing
organization gets no second OWNER. The key is the operator's own (``pk_live_`` + 32 hex), stored as its
SHA-256 like every key, with full access, created by the OWNER; it is added when its hash is not stored
yet and that OWNER is in the organization. Each creation is audited (user agent "PROVENANT_INIT").
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from provenant.accounts.passwords import hash_password_blocking, new_password_problem
from provenant.accounts.service import email_key, find_user_by_email
from provenant.api_keys.service import snapshot
from provenant.audit import service as audit
from provenant.audit.actions import AuditAction
from provenant.auth import security
from provenant.auth.principal import Actor
from provenant.auth.roles import Access, Role
from provenant.config import Settings
from provenant.db import Database
from provenant.models import ApiKey, Org, User
from provenant.schemas import SLUG_PATTERN

logger = logging.getLogger(__name__)

INIT_KEY_NAME = "PROVENANT_INIT_API_KEY"
_ACTOR_AGENT = "PROVENANT_INIT"


class InitRefused(Exception):
    """A PROVENANT_INIT_ setting that cannot be used, said for the operator."""


@dataclass(frozen=True, slots=True)
class Outcome:
    created_org: bool
    created_user: bool
    created_key: bool


def _checked(settings: Settings) -> tuple[str, str, str, str, str]:
    assert settings.init_org_name and settings.init_org_slug and settings.init_user_name
    assert settings.init_user_email and settings.init_user_password
    password = settings.init_user_password.get_secret_value()
    if re.fullmatch(SLUG_PATTERN, settings.init_org_slug) is None:
        raise InitRefused("PROVENANT_INIT_ORG_SLUG: lowercase letters, digits and inner hyphens, 1 to 64")
    try:
        validate_email(settings.init_user_email, check_deliverability=False)
    except EmailNotValidError as error:
        raise InitRefused(f"PROVENANT_INIT_USER_EMAIL is not an email address: {error}") from None
    if problem := new_password_problem(password):
        raise InitRefused(f"PROVENANT_INIT_USER_PASSWORD {problem}")
    return settings.init_org_name, settings.init_org_slug, settings.init_user_name, settings.init_user_email, password


def initialize(database: Database, settings: Settings) -> Outcome:
    """Creates what PROVENANT_INIT_* describes and does not exist; raises InitRefused for unusable settings.
    Servers starting together may both try: the one that loses the race finds everything there."""
    org_name, slug, user_name, email, password = _checked(settings)
    raw_key = settings.init_api_key.get_secret_value() if settings.init_api_key else None
    # argon2 only when the account will be created, and before the transaction (it holds the write lock).
    with database.transaction(writes=False) as reading:
        needs_account = find_user_by_email(reading, email) is None
    password_hash = hash_password_blocking(password) if needs_account else None
    try:
        with database.transaction() as session:
            return _create_missing(session, org_name, slug, user_name, email, password_hash, raw_key)
    except IntegrityError:
        logger.info("another process created the PROVENANT_INIT_ organization meanwhile")
        return Outcome(False, False, False)


def _create_missing(
    session: Session,
    org_name: str,
    slug: str,
    user_name: str,
    email: str,
    password_hash: str | None,
    raw_key: str | None,
) -> Outcome:
    now = datetime.now(UTC)
    actor = Actor(org_id=None, user_id=None, user_agent=_ACTOR_AGENT)
    org = session.scalars(select(Org).where(Org.slug == slug)).one_or_none()
    user = find_user_by_email(session, email)
    created_org = created_user = created_key = False
    if org is None and user is None and password_hash is not None:
        org = Org(name=org_name, slug=slug, created_at=now)
        session.add(org)
        session.flush()
        user = User(
            org_id=org.id,
            role=Role.OWNER.value,
            name=user_name,
            email=email.strip(),
            email_key=email_key(email),
            password_hash=password_hash,
            created_at=now,
        )
        session.add(user)
        session.flush()
        created_org = created_user = True
        audit.record(
            session,
            actor,
            AuditAction.AUTH_REGISTER,
            resource_type="user",
            resource_id=user.id,
            after={"userId": user.id, "email": user.email, "orgId": org.id, "orgSlug": org.slug, "via": "init"},
            org_id=org.id,
            user_id=user.id,
        )
        logger.info("PROVENANT_INIT_: created the organization %s and its OWNER", slug)
    elif org is None or user is None or user.org_id != org.id:
        logger.warning(
            "PROVENANT_INIT_: the organization %s or the account of PROVENANT_INIT_USER_EMAIL exists, but not as "
            "its member; nothing was created",
            slug,
        )
        return Outcome(False, False, False)
    if raw_key is not None and user.role is not None:
        key_hash = security.hash_secret(raw_key)
        if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == key_hash)) is None:
            key = ApiKey(
                org_id=org.id,
                user_id=user.id,
                name=INIT_KEY_NAME,
                key_hash=key_hash,
                key_prefix=security.api_key_display_prefix(raw_key),
                access=Access.FULL.value,
                created_at=now,
            )
            session.add(key)
            session.flush()
            created_key = True
            audit.record(
                session,
                actor,
                AuditAction.APIKEY_CREATE,
                resource_type="api_key",
                resource_id=key.id,
                after=snapshot(key),
                org_id=org.id,
                user_id=user.id,
            )
            logger.info("PROVENANT_INIT_: added the API key pk_live_%s…", key.key_prefix)
    return Outcome(created_org, created_user, created_key)
