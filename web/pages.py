"""Rendering pages: the templates, the language of a request, and errors shown as a page, never a traceback."""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from datetime import datetime, time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from zhuisu.errors import BadInput, ZhuisuError
from zhuisu.ingest.records import plant_zone
from zhuisu.web import i18n, kinds
from zhuisu.web.auth import SignIn

log = logging.getLogger("zhuisu.web")
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.filters["local"] = lambda t: t.astimezone(plant_zone()) if t is not None and t.tzinfo else t
PAGE_ROWS = 50  # table rows per page
T = TypeVar("T")


def render(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    """``name`` rendered in the request's language; ``?lang=`` also sets the language cookie."""
    lang = i18n.language(request)
    onto = request.app.state.zhuisu.store.ontology
    values = {
        "request": request, "lang": lang, "t": i18n.translator(lang),
        "kind_label": lambda kind: kinds.label(onto, kind, lang),
        "kind_colour": lambda kind: kinds.colour(onto, kind),
        "switch": _replace(request, "lang", "en" if lang == "zh" else "zh"),
        "with_param": lambda name, value: _replace(request, name, value),
        "js_text": {k: i18n.TEXT[k][i18n.LANGS.index(lang)] for k in i18n.SCRIPT},
        "url": url, **context,
    }
    response = templates.TemplateResponse(request, name, values, status_code=status)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def _replace(request: Request, name: str, value: Any) -> str:
    """This page's address with parameter ``name`` set to ``value``."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != name] + [(name, str(value))]
    return f"{request.url.path}?{urlencode(params)}"


def url(path: str, **params: Any) -> str:
    """``path`` with the given query parameters (None and empty ones left out)."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def day(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """A date from a form (``2023-11-05``, or a full ISO time): the start of that day, or its end."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(f"日期无效 {field}={value!r} is not a date; use YYYY-MM-DD", where=field) from None
    if end and len(value.strip()) == 10:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed


def page_number(value: str | None) -> int:
    """A ``page`` parameter, 1 or more."""
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise BadInput(f"页码无效 page={value!r}; use 1, 2, 3…", where="page")
    return int(value)


class Recent:
    """The last few query results, so that paging, expanding groups and exporting do not compute them again;
    keys name the store batch, so a result is never older than the data."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def remove_folder(folder: Path) -> None:
    """Remove a temporary folder once its file has been sent."""
    shutil.rmtree(folder, ignore_errors=True)


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


class PageRoute(APIRoute):
    """A route whose errors become a page in the user's language, with the status and what to do."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignIn as exc:
                return RedirectResponse(exc.location, status_code=303)
            except HTTPException:
                raise
            except ZhuisuError as exc:
                return error_page(request, exc.status, exc.message)
            except RequestValidationError as exc:
                where = ", ".join(str(p) for e in exc.errors() for p in e.get("loc", ())[1:2])
                return error_page(request, 422, f"参数无效 invalid parameter {where}")
            except OperationalError:
                log.exception("%s: store unavailable", request.url.path)
                return error_page(request, 503, "存储不可用 the store database cannot be reached; retry later")
            except Exception:  # the log has the traceback, the page an incident id
                incident = uuid.uuid4().hex[:12]
                log.exception("%s %s: unexpected error (incident %s)", request.method, request.url.path, incident)
                return error_page(request, 500, f"内部错误 unexpected server error; the server log has the "
                                                f"details under incident {incident}")

        return guarded
