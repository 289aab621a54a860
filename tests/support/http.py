"""A small HTTP client for tests (no redirects followed, 4xx/5xx returned) and a
bounded wait for conditions that are not a process start."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 10,
) -> HttpResponse:
    """One HTTP request; 4xx/5xx are returned, not raised. No redirects followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with opener.open(request, timeout=timeout) as resp:
            return HttpResponse(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as err:
        return HttpResponse(err.code, err.read(), dict(err.headers))


def wait_for(
    what: str, probe: Callable[[], T | None], *, timeout: float, interval: float = 0.2
) -> T:
    """Call ``probe`` until it returns something other than None/False; at most ``timeout``
    seconds, then ``TimeoutError`` naming ``what`` and the last error seen."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, ValueError, urllib.error.URLError) as exc:
            last_error = exc
        else:
            if result is not None and result is not False:
                return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last_error!r})")
