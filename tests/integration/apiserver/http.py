"""Raw HTTP against the embedded server: what a client sees, byte for byte."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from reconcile.apiserver import APIServer
from tests.raw_http import urlopen


def request(
    server: APIServer,
    method: str,
    path: str,
    body: Any = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """(status, decoded JSON body); ``body`` is sent as JSON unless it is bytes."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    message = urllib.request.Request(
        server.url + path, data=data, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urlopen(server, message, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
