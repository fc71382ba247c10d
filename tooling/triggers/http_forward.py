"""`tool serve`'s HTTP and HTTP proxy integrations: the request API Gateway sends to the
integration's `uri` (its `{name}` placeholders and the integration request parameters filled
from the method request), and the endpoint's answer as it comes (no redirect followed, at most
API Gateway's 10 MB, API Gateway's 29 s integration timeout)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

MAX_ANSWER_BYTES = 10 * 1024 * 1024
TIMEOUT_SECONDS = 29.0
# Headers of one hop: API Gateway does not pass them on.
HOP_HEADERS = frozenset(
    {"connection", "content-length", "host", "keep-alive", "transfer-encoding", "upgrade",
     "proxy-connection", "te", "trailer"}
)  # fmt: skip


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class ForwardFailed(Exception):
    """The endpoint could not be reached or answered too much (API Gateway's 5xx)."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is the answer, as API Gateway passes it on


def mapped_parameters(
    parameters: Mapping[str, str],
    path: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """integration.request.<path|querystring|header>.<name> values: a method request parameter
    (`method.request.path.id`, ...) or a 'static' value; location -> name -> value."""
    sources = {"path": path, "querystring": query,
               "header": {k.lower(): v for k, v in headers.items()}}  # fmt: skip
    found: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
    for key, source in parameters.items():
        parts = key.split(".", 3)
        if len(parts) != 4 or parts[0] != "integration" or parts[2] not in found:
            continue
        value: str | None = None
        if len(source) >= 2 and source[0] == source[-1] == "'":
            value = source[1:-1]
        elif source.startswith("method.request."):
            where, _, name = source[len("method.request.") :].partition(".")
            table = sources.get(where, {})
            value = table.get(name.lower() if where == "header" else name)
        if value is not None:
            found[parts[2]][parts[3]] = value
    return found


def target_url(uri: str, path_values: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The integration's URI with `{name}` (and `{name+}`) filled and `query` added."""
    url = uri
    for name, value in path_values.items():
        # a greedy path's slashes stay slashes (the usual `https://host/{proxy}` pattern)
        url = url.replace("{" + name + "+}", quote(value, safe="/"))
        url = url.replace("{" + name + "}", quote(value, safe="/"))
    if query:
        parts = urlsplit(url)
        joined = "&".join(p for p in (parts.query, urlencode(dict(query))) if p)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))
    return url


def forward(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
    """One request to the endpoint; its answer whatever the status."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ForwardFailed(f"the integration's URI {url!r} is not http(s)")
    sent = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
    request = urllib.request.Request(url, data=body or None, headers=sent, method=method)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        response = opener.open(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:  # a 4xx/5xx (or an unfollowed 3xx) is an answer
        response = error
    except TimeoutError:
        raise ForwardFailed(f"{url}: no answer in {TIMEOUT_SECONDS:.0f} s", True) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ForwardFailed(f"{url}: {getattr(exc, 'reason', exc)}") from None
    with response:
        data = response.read(MAX_ANSWER_BYTES + 1)
        if len(data) > MAX_ANSWER_BYTES:
            raise ForwardFailed(f"{url}: the answer is over 10 MB")
        kept = tuple((k, v) for k, v in response.headers.items() if k.lower() not in HOP_HEADERS)
        return Answer(int(response.status), kept, data)
