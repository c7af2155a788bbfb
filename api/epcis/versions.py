"""The ``GS1-EPCIS-Version`` / ``-Min`` / ``-Max`` headers: this server speaks EPCIS 2.0.0 and CBV 2.0.0."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhuisu.api.errors import NotAcceptable
from zhuisu.errors import BadInput

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
_VERSION = re.compile(r"^\d+(\.\d+)*$")
_OURS = (2, 0, 0)


def _parse(value: str, header: str) -> tuple[int, ...]:
    text = value.strip()
    if not _VERSION.match(text) or len(text) > 20:
        raise BadInput(f"版本格式错误 {header}: {value!r} is not a version such as 2.0.0", where=header)
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (3 - len(parts)) if len(parts) < 3 else parts


async def negotiate(
    version: Annotated[str | None, Header(alias="GS1-EPCIS-Version", max_length=20, examples=["2.0.0"],
                                          description="EPCIS 版本 the EPCIS version of the request (2.0.0)")] = None,
    minimum: Annotated[str | None, Header(alias="GS1-EPCIS-Min", max_length=20,
                                          description="可接受的最低版本 lowest version the client accepts")] = None,
    maximum: Annotated[str | None, Header(alias="GS1-EPCIS-Max", max_length=20,
                                          description="可接受的最高版本 highest version the client accepts")] = None,
) -> str:
    """Accept EPCIS 2.0.0 requests; a client that asks for another version gets 406 (400 for a malformed one)."""
    if version is not None and _parse(version, "GS1-EPCIS-Version") != _OURS:
        raise NotAcceptable(f"不支持的 EPCIS 版本 GS1-EPCIS-Version {version.strip()} is not supported; this server "
                            f"speaks EPCIS {EPCIS_VERSION}", where="GS1-EPCIS-Version")
    low = _parse(minimum, "GS1-EPCIS-Min") if minimum is not None else None
    high = _parse(maximum, "GS1-EPCIS-Max") if maximum is not None else None
    if (low is not None and low > _OURS) or (high is not None and high < _OURS):
        raise NotAcceptable(f"无法满足版本范围 the requested EPCIS version range {minimum or '…'}–{maximum or '…'} "
                            f"excludes {EPCIS_VERSION}, the only version this server speaks", where="GS1-EPCIS-Min")
    return EPCIS_VERSION


class VersionHeaders:
    """ASGI middleware: every response under ``/epcis`` says which EPCIS and CBV versions it speaks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/epcis"):
            await self.app(scope, receive, send)
            return

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"gs1-epcis-version", b"gs1-cbv-version")]
                headers += [(b"gs1-epcis-version", EPCIS_VERSION.encode()), (b"gs1-cbv-version", CBV_VERSION.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, tagged)
