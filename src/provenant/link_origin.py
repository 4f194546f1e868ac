"""Where the links the server hands out lead (invitations, password resets)."""

from typing import Annotated

from fastapi import Depends, Request


async def _link_origin(request: Request) -> str:
    """PROVENANT_PUBLIC_URL, else the origin this request was addressed to. (Email is only configured together
    with PROVENANT_PUBLIC_URL: an emailed link never takes its origin from a request's Host header.)"""
    public_url: str | None = request.app.state.settings.public_url
    if public_url:
        return public_url.rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


LinkOrigin = Annotated[str, Depends(_link_origin)]
