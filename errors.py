"""Error types: each carries an HTTP-style status and a message that says what to do."""

from __future__ import annotations


class ZhuisuError(Exception):
    """Base of every error a user may see; ``str(err)`` is one line."""

    status = 500
    code = "E000"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class BadInput(ZhuisuError):
    """Input that cannot be read: the message names the file, line or field."""

    status = 400
    code = "E100"


class UnknownKind(BadInput):
    """A kind or relation that the ontology does not define."""

    code = "E101"


class NotFound(ZhuisuError):
    """A uid, alias or resource that does not exist."""

    status = 404
    code = "E404"


class StoreError(ZhuisuError):
    """The store could not be opened or written."""

    status = 503
    code = "E200"
