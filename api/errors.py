"""Every 4xx and 5xx as ``application/problem+json`` (RFC 9457): one exception type per status, one renderer.

Library errors (:class:`zhuisu.errors.ZhuisuError`) already carry their status and a message that says what to
do; the API adds the statuses only HTTP has. Under ``/epcis`` the problem ``type`` is the binding's
``epcisException:…`` name, so EPCIS clients see the exceptions their standard defines.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhuisu.errors import ZhuisuError

PROBLEM = "application/problem+json"
log = logging.getLogger("zhuisu.api")


class Unauthorized(ZhuisuError):
    """No API key, or one that is unknown or revoked."""

    status = 401
    code = "E401"


class Forbidden(ZhuisuError):
    """A valid API key without the scope the operation needs."""

    status = 403
    code = "E403"


class NotAcceptable(ZhuisuError):
    """A version or representation the server cannot give (GS1-EPCIS-Version, Accept)."""

    status = 406
    code = "E406"


class Conflict(ZhuisuError):
    """An identifier already used for something else (an idempotency key, an eventID)."""

    status = 409
    code = "E409"


class Gone(ZhuisuError):
    """A cursor or page token that has expired."""

    status = 410
    code = "E410"


class TooLarge(ZhuisuError):
    """A request body over ``ZHUISU_API_MAX_BODY_MB``."""

    status = 413
    code = "E413"


class NotImplementedHere(ZhuisuError):
    """An operation this server's configuration cannot run (an analysis that needs the in-memory engine)."""

    status = 501
    code = "E501"


class UnsupportedMediaType(ZhuisuError):
    """A body in a format the endpoint does not read."""

    status = 415
    code = "E415"


TITLES = {
    400: "请求有误 Bad request", 401: "需要有效的 API 密钥 Unauthorized", 403: "权限不足 Forbidden",
    404: "找不到 Not found", 405: "不支持的方法 Method not allowed", 406: "无法按要求响应 Not acceptable",
    409: "冲突 Conflict", 410: "已失效 Gone", 413: "请求体过大 Payload too large",
    415: "不支持的格式 Unsupported media type", 422: "参数校验失败 Validation failed",
    500: "服务器内部错误 Internal server error", 501: "未实现 Not implemented here",
    503: "存储不可用 Store unavailable",
}
# The REST binding's exception names, by status, for problems under /epcis.
EPCIS_TYPES = {
    400: "epcisException:ValidationException", 401: "epcisException:SecurityException",
    403: "epcisException:SecurityException", 404: "epcisException:NoSuchResourceException",
    405: "epcisException:ImplementationException", 406: "epcisException:NotAcceptableException",
    409: "epcisException:ResourceAlreadyExistsException", 410: "epcisException:QueryParameterException",
    413: "epcisException:CaptureLimitExceededException", 415: "epcisException:ImplementationException",
    422: "epcisException:ValidationException", 500: "epcisException:ImplementationException",
    503: "epcisException:ImplementationException",
}


def problem(request: Request, status: int, detail: str, *, code: str | None = None, type_: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response; ``extra`` members (``errors``, ``rule``, ``where``…) are added as given."""
    epcis = request.url.path.startswith("/epcis")
    body: dict[str, Any] = {
        "type": type_ or (EPCIS_TYPES.get(status, "about:blank") if epcis else f"urn:zhuisu:problem:{code or status}"),
        "title": TITLES.get(status) or _phrase(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if code:
        body["code"] = code
    body.update({k: v for k, v in extra.items() if v is not None})
    out = dict(headers or {})
    if epcis:
        out.setdefault("GS1-EPCIS-Version", "2.0.0")
    if status == 401:
        out.setdefault("WWW-Authenticate", 'Bearer realm="zhuisu"')
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=out)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _zhuisu_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ZhuisuError)
    if exc.status >= 500:
        log.error("%s %s: [%s] %s", request.method, request.url.path, exc.code, exc)
    return problem(request, exc.status, exc.message, code=exc.code, where=exc.where,
                   type_=getattr(exc, "problem_type", None), **getattr(exc, "extra", {}))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"没有这个地址 no such endpoint: {request.method} {request.url.path}; see /docs"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        detail = f"{request.url.path} 不支持 {request.method}; allowed: {allowed or 'see /docs'}"
    return problem(request, exc.status_code, detail, code=f"E{exc.status_code}", headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    first = errors[0] if errors else {"detail": "invalid request"}
    where = first.get("pointer") or first.get("parameter") or first.get("header") or "request"
    detail = f"{where}: {first['detail']}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
    epcis = request.url.path.startswith("/epcis")
    status = 400 if epcis else 422  # the EPCIS binding answers any invalid request with 400
    type_ = None
    if epcis and any(e.get("parameter") for e in errors):
        type_ = "epcisException:QueryParameterException"
    return problem(request, status, detail, code="E422", type_=type_, errors=errors)


def _field_error(error: Any) -> dict[str, Any]:
    """One validation error with where it is: a JSON pointer into the body, or the parameter or header."""
    loc = [str(p) for p in error.get("loc", ())]
    out: dict[str, Any] = {"detail": str(error.get("msg", "invalid")), "type": error.get("type")}
    if loc and loc[0] == "body":
        out["pointer"] = "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in loc[1:])
    elif loc and loc[0] in ("query", "path"):
        out["parameter"] = loc[1] if len(loc) > 1 else loc[0]
    elif loc and loc[0] == "header":
        out["header"] = loc[1] if len(loc) > 1 else loc[0]
    elif loc:
        out["pointer"] = "#/" + "/".join(loc)
    return out


async def _store_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: store unavailable: %s", request.method, request.url.path, exc)
    return problem(request, 503, "存储不可用 the store database cannot be reached; retry later", code="E200",
                   headers={"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    log.exception("%s %s: unexpected error (incident %s)", request.method, request.url.path, incident)
    return problem(request, 500, f"内部错误 unexpected server error; the server log has the details under "
                   f"incident {incident}", code="E500", incident=incident)


def install(app: FastAPI) -> None:
    """Render every error of ``app`` as problem+json."""
    app.add_exception_handler(ZhuisuError, _zhuisu_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _store_down)
    app.add_exception_handler(Exception, _unexpected)


# Documented on every operation so that clients (and schemathesis) know the shape of an error.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "code": {"type": "string"},
        "where": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problems an operation may return."""
    return {s: {"description": TITLES.get(s) or _phrase(s), "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}
            for s in statuses}
