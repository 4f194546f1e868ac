"""Settings, read once from the environment (prefix ``PROVENANT_``)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROVENANT_", extra="ignore")

    data_dir: Path = Field(default=Path(".provenant"), description="Where the SQLite file and the JWT secret live.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in data_dir.")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 signing secret; default: generated once into data_dir/jwt-secret."
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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'provenant.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
