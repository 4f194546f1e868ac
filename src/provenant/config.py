"""Settings, read once from the environment (prefix ``PROVENANT_``)."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from provenant.auth.encryption import parse_key

# HS256 keys shorter than its 32-byte output can be brute-forced offline from one token (RFC 7518 §3.2).
MIN_JWT_SECRET_BYTES = 32
# Seconds between writes of key use: at most half the minute within which the API promises lastUsedAt and
# usage, as a failed write is retried one interval later; at least one, or a busy process writes at every request.
MIN_KEY_USE_WRITE_INTERVAL, MAX_KEY_USE_WRITE_INTERVAL = 1.0, 30.0


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a secret; an error names it, never its value.
    model_config = SettingsConfigDict(env_prefix="PROVENANT_", extra="ignore", hide_input_in_errors=True)

    data_dir: Path = Field(default=Path(".provenant"), description="Where the SQLite file and the JWT secret live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 signing secret; default: generated once into data_dir/jwt-secret."
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description="32 bytes in base64 that encrypt stored secrets (two-factor seeds); default: generated once "
        "into data_dir/encryption-key. The same on every machine of a deployment, and never changed.",
    )
    public_url: str | None = Field(default=None, description="Origin used in links the server hands out.")
    log_level: str = Field(default="info")
    db_pool_size: int = Field(default=10, ge=1, description="Connections each server process keeps open.")
    db_max_overflow: int = Field(default=10, ge=0, description="Connections opened beyond the pool under load.")
    db_pool_timeout: float = Field(
        default=0.0,
        ge=0,
        description="Seconds a request waits for a free connection before answering 503 busy. Requests run on "
        "the event loop, where waiting would stall every other request, so the default is not to wait.",
    )
    db_lock_timeout: float = Field(
        default=1.0,
        gt=0,
        description="Seconds a statement waits for a lock held by another process (SQLite's write lock, a "
        "PostgreSQL row lock) before the request answers 503 busy.",
    )

    redis_url: str | None = Field(
        default=None,
        description="When set, failed-attempt counters and API keys' rate limits live in Redis, shared by "
        "every server process (instead of the database, and of each process's memory).",
    )
    redis_prefix: str = Field(default="provenant:", description="Prefix of every Redis key the server writes.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of the reverse proxies whose X-Forwarded-For names the client (comma-separated). "
        "Empty: the client is the socket's peer, whatever the headers say.",
    )
    sign_in_failures_per_account: int = Field(default=10, ge=1, description="Per account and client IP.")
    sign_in_failures_per_account_window: int = Field(default=15 * 60, ge=1, description="Seconds.")
    sign_in_failures_per_ip: int = Field(default=100, ge=1, description="Per client IP, across accounts.")
    sign_in_failures_per_ip_window: int = Field(default=60 * 60, ge=1, description="Seconds.")
    api_key_failures_per_ip: int = Field(default=100, ge=1, description="Failed API-key authentications.")
    api_key_failures_per_ip_window: int = Field(default=60, ge=1, description="Seconds.")
    registrations_per_ip: int = Field(
        default=10, ge=1, description="Organizations registered per client IP, counted before the password is hashed."
    )
    registrations_per_ip_window: int = Field(default=60 * 60, ge=1, description="Seconds.")
    key_use_write_interval: float = Field(
        default=30.0,
        description="Seconds between a process's writes of the API-key use it counted (lastUsedAt, requests per "
        "day), 1 to 30: a failed write is retried one interval later, and both are promised within a minute.",
    )

    allowed_issuer_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts of OpenID Connect issuers (CI providers, single sign-on) that may be fetched although "
        "they resolve to a loopback, private or link-local address, over plain HTTP too (comma-separated). Empty: "
        "issuers are fetched over HTTPS from public addresses only.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (scheme://host[:port], comma-separated) allowed to call the API from their "
        "pages; '*' allows any origin. None by default: the dashboard is served from the API's own origin.",
    )
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at GET /metrics, without authentication: for a scraper on a private "
        "network; keep the path from the public (docs/deploy.md).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="'text' for a person at a terminal, 'json' for one JSON object per line."
    )

    # --- email (provenant.email) ---------------------------------------------------------------------
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:pass@host:587 (STARTTLS when offered), smtps://... (implicit TLS), smtp://host:25 "
        "(no login). Unset: no email is sent, and nothing fails for it.",
    )
    email_from: str = Field(default="Provenant <noreply@localhost>", description="The From header of every email.")
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) trusted for the SMTP server's TLS certificate, instead of "
        "the system's (a private CA, a self-signed relay).",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds one SMTP conversation may take.")
    email_poll_interval: float = Field(
        default=15.0,
        gt=0,
        description="Seconds between a process's looks at the outbox for mail due (retries, "
        "mail another process could not send); a process sends what its own requests enqueue at once.",
    )
    email_retry_delay: float = Field(
        default=60.0,
        gt=0,
        description="Seconds before the first retry of a failed delivery; each next waits twice "
        "as long (at most an hour), and retries go on for 24 hours.",
    )

    # --- sign-up and the headless first start (provenant.accounts.first_start) -----------------------
    signup: Literal["open", "invite-only"] = Field(
        default="open", description="'invite-only': POST /api/auth/register answers 403; invitations still work."
    )
    init_org_name: str | None = None
    init_org_slug: str | None = None
    init_user_name: str | None = None
    init_user_email: str | None = None
    init_user_password: SecretStr | None = None
    init_api_key: SecretStr | None = Field(
        default=None, description="A pk_live_ key the operator generated; stored as its SHA-256 only."
    )

    # --- Sign in with GitHub (provenant.sign_in.github) -----------------------------------------------
    github_client_id: str | None = Field(
        default=None, description="The OAuth app's client id; with the secret, the Sign in page offers GitHub."
    )
    github_client_secret: SecretStr | None = Field(default=None, description="The OAuth app's client secret.")
    github_url: str = Field(
        default="https://github.com", description="GitHub's web address (GitHub Enterprise Server: your server's)."
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).",
    )

    @field_validator("github_url", "github_api_url")
    @classmethod
    def _github_url(cls, value: str) -> str:
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/") or any(c in rest for c in "?#@ "):
            raise ValueError(f"{value!r} is not an http(s) URL such as https://github.example.com")
        return value.rstrip("/")

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_client_id and self.github_client_secret)

    @field_validator("trusted_proxies", "cors_origins", "allowed_issuer_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("allowed_issuer_hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if any(c in host for c in "/?#@ ") or not host:
                raise ValueError(
                    f"PROVENANT_ALLOWED_ISSUER_HOSTS: {host!r} is not a host name or address (no scheme, no path)"
                )
        return [host.lower().removeprefix("[").removesuffix("]") for host in hosts]

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*":
                continue
            scheme, _, rest = origin.partition("://")
            if scheme not in ("http", "https") or not rest or any(c in rest for c in "/?#*"):
                raise ValueError(
                    f"PROVENANT_CORS_ORIGINS: {origin!r} is not an origin; write scheme://host[:port], such as "
                    "https://app.example.com (no path, no trailing slash), or '*' for any origin"
                )
        return origins

    @field_validator("key_use_write_interval")
    @classmethod
    def _within_the_promise(cls, seconds: float) -> float:
        # Not ge/le: their error gives the bound but not the reason. NaN fails both comparisons: refused too.
        if not MIN_KEY_USE_WRITE_INTERVAL <= seconds <= MAX_KEY_USE_WRITE_INTERVAL:
            raise ValueError(
                f"{seconds:g} is not between {MIN_KEY_USE_WRITE_INTERVAL:g} and {MAX_KEY_USE_WRITE_INTERVAL:g} "
                "seconds: lastUsedAt and usage are promised within a minute and a failed write is retried one "
                "interval later, so at most 30; below 1 a busy process would write at nearly every request"
            )
        return seconds

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"shorter than {MIN_JWT_SECRET_BYTES} bytes, too short to sign tokens; make a good one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))" '
                "(or unset it to have one generated into the data directory)"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = value.get_secret_value().partition("://")[0].lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError("must start with smtp:// (STARTTLS when the server offers it) or smtps:// (implicit TLS)")
        return value

    @field_validator("init_api_key")
    @classmethod
    def _init_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and re.fullmatch(r"pk_live_[0-9a-f]{32}", value.get_secret_value()) is None:
            raise ValueError(
                "is not a Provenant API key: pk_live_ then 32 lowercase hex characters; make one with: "
                "python -c \"import secrets; print('pk_live_' + secrets.token_hex(16))\""
            )
        return value

    @model_validator(mode="after")
    def _init_complete(self) -> "Settings":
        names = ("init_org_name", "init_org_slug", "init_user_name", "init_user_email", "init_user_password")
        given = [name for name in names if getattr(self, name)]
        if self.smtp_url is not None and not self.public_url:
            # Links in emails must not take their origin from a request's Host header: anyone asking for a
            # reset could then have the victim's link point at a host of theirs.
            raise ValueError("PROVENANT_SMTP_URL needs PROVENANT_PUBLIC_URL: the address links in emails lead to")
        if self.init_api_key is not None and not given:
            given.append("init_api_key")
        if given and len(given) < len(names):
            missing = ", ".join(f"PROVENANT_{name.upper()}" for name in names if not getattr(self, name))
            raise ValueError(f"a headless first start needs every PROVENANT_INIT_ setting; missing: {missing}")
        return self

    @property
    def email_enabled(self) -> bool:
        return self.smtp_url is not None

    @property
    def wants_init(self) -> bool:
        return self.init_org_slug is not None

    @field_validator("encryption_key")
    @classmethod
    def _a_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_key(value.get_secret_value())  # its ValueError says what is wrong, never the value
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'provenant.db').resolve()}"


def _setting_name(location: tuple[int | str, ...]) -> str:
    # A rule over several settings (the PROVENANT_INIT_ group) has no location: its message names them.
    return "PROVENANT_" + "_".join(map(str, location)).upper() if location else "settings"


@lru_cache
def get_settings() -> Settings:
    """The environment's settings; a process whose settings are invalid stops, saying which and why."""
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "\n".join(
            f"  {_setting_name(error['loc'])}: {error['msg'].removeprefix('Value error, ')}" for error in exc.errors()
        )
        raise SystemExit(f"provenant: invalid configuration:\n{reasons}") from None
