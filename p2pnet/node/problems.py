"""Errors as RFC 9457 problem details (``application/problem+json``).

Every refusal, on the peer endpoint and the local API alike, is a JSON object
with a stable ``type`` (``urn:p2pnet:problem:<code>``), a ``title``, the
``status`` and a ``detail`` that says what was wrong. A refusal about one
query parameter adds ``parameter``; one about one field of a request body
adds ``field``. Unknown errors become a logged 500 that reveals nothing of
the internals.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..directory import QueryParamError
from ..errors import (
    ConfigError,
    EntryNotFoundError,
    EntryRefusedError,
    MemberNotFoundError,
    P2pnetError,
    TokenError,
)
from ..search import QueryError
from ..thai import DateError
from .keys import max_body_key

log = logging.getLogger(__name__)
PROBLEM_TYPE = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An HTTP refusal with a stable code."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


def problem_response(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    body = {
        "type": f"urn:p2pnet:problem:{code}",
        "title": code.replace("-", " "),
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type=PROBLEM_TYPE,
        headers=headers,
    )


_FIELD = re.compile(r"^field '([^']{1,200})'")


def field_of(detail: str) -> str | None:
    """The body field a schema refusal names (``schema.bad`` writes "field 'x': why")."""
    m = _FIELD.match(detail)
    return m.group(1) if m else None


def _from_error(exc: P2pnetError) -> web.Response:
    if isinstance(exc, QueryParamError):
        return problem_response(400, exc.code, exc.detail, parameter=exc.param)
    if isinstance(exc, EntryRefusedError):
        field = field_of(exc.detail)
        extra = {"field": field} if field else {}
        return problem_response(422, str(exc.code), exc.detail, **extra)
    if isinstance(exc, EntryNotFoundError | MemberNotFoundError):
        return problem_response(404, "not-found", str(exc))
    if isinstance(exc, TokenError):
        return problem_response(403, "invite-refused", str(exc))
    if isinstance(exc, ConfigError):
        return problem_response(400, "bad-request", str(exc))
    return problem_response(400, "refused", str(exc))


_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "too-large",
    414: "query-too-long",
    415: "unsupported-media-type",
}


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as p:
        return problem_response(p.status, p.code, p.detail, **p.extra)
    except P2pnetError as exc:
        return _from_error(exc)
    except QueryError as exc:
        return problem_response(400, "bad-query", str(exc), parameter="q")
    except DateError as exc:
        return problem_response(400, "bad-date", str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http-error")
        detail = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
        if exc.status == 413:
            detail = (
                f"request body is larger than this node accepts ({request.app[max_body_key]} bytes)"
            )
        return problem_response(exc.status, code, detail or exc.reason)
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return problem_response(500, "internal-error", "the node failed to answer; see its log")
