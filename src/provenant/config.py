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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'provenant.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
