"""The settings of the HTTP edge: which browser origins may call the API, and how the server logs.

Read from the environment like ``config.Settings`` (prefix ``PROVENANT_``); kept apart only until they join it.
"""

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROVENANT_", extra="ignore")

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (scheme://host[:port], comma-separated) allowed to call the API from their "
        "pages; '*' allows any origin. None by default: the dashboard is served from the API's own origin.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="'text' for a person at a terminal, 'json' for one JSON object per line."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

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


@lru_cache
def get_web_settings() -> WebSettings:
    return WebSettings()
