"""The journal that makes the local AWS services' state outlive a restart.

moto keeps its state in memory. Its own recorder (MOTO_ENABLE_RECORDING) appends every request,
reads and failures included, before the request runs, from the server's threads without a lock.
The journal keeps instead what a restart needs: each request that can change state and that
succeeded, written after it ran and before its answer leaves, one JSON line per request in one
`write` on an append-only file, in the order the writes ran (they run one at a time). A request
whose answer a client saw is therefore in the journal; one cut short by a crash is not, and a
line cut short by a crash is dropped when the journal is opened. Replaying the journal into a
fresh moto app, in order, rebuilds the state.

What a replay does not rebuild exactly: generated identifiers and timestamps (message ids,
receipt handles, creation dates) are new; SQS ReceiveMessage is not journaled, so received
messages are visible again at once (as when their visibility timeout ends). An SQS message
deleted before the restart stays deleted (tooling.localaws.sqs_replay).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request

from tooling.localaws import sqs_replay

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger("tooling.localaws")

# Operations that only read (or, for ReceiveMessage, whose effect a restart need not keep).
_READ_ONLY = re.compile(
    r"^(?:Get|List|Describe|BatchGet|Head|Lookup|Search|Filter|Validate|Receive|Select|Scan$|Query$)"
)
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Headers that describe one connection, not the request, and the session token of whoever
# signed it: none goes into the journal.
_KEPT_OUT = frozenset(
    {"connection", "content-length", "transfer-encoding", "keep-alive", "x-amz-security-token"}
)
_SIGNATURE = re.compile(r"Signature=[0-9a-fA-F]+")


def operation_of(environ: dict[str, Any], body: bytes) -> str | None:
    """The API operation a request names, in any AWS protocol, or None for REST protocols."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols: "DynamoDB_20120810.PutItem"
        return str(target).rsplit(".", 1)[-1]
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:  # Smithy RPC v2 CBOR: /service/<name>/operation/<Operation>
        return path.rsplit("/", 1)[-1]
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    if "Action" in query:
        return query["Action"][0]
    content_type = str(environ.get("CONTENT_TYPE", ""))
    if content_type.startswith("application/x-www-form-urlencoded"):  # query protocol
        form = parse_qs(body.decode("utf-8", errors="replace"))
        if "Action" in form:
            return form["Action"][0]
    return None


def changes_state(environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request may change what the services hold (and so goes into the journal)."""
    if str(environ.get("PATH_INFO", "")).startswith("/moto-api/"):
        return False
    operation = operation_of(environ, body)
    if operation is not None:
        return not _READ_ONLY.match(operation)
    return str(environ.get("REQUEST_METHOD", "GET")).upper() not in _READ_METHODS


class Journal:
    """The append-only file of state-changing requests."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def repair(self) -> int:
        """Drop a last line that a crash cut short; returns how many bytes were dropped."""
        if not self.path.exists():
            return 0
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep == len(data):
            return 0
        with self.path.open("r+b") as file:
            file.truncate(keep)
            file.flush()
            os.fsync(file.fileno())
        return len(data) - keep

    def entries(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as file:
            for line in file:
                if line.strip():
                    yield json.loads(line)

    def append(self, entry: dict[str, Any]) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")
        written = os.write(self._fd, data)  # one write: the line is whole or (after a crash) cut
        while written < len(data):
            written += os.write(self._fd, data[written:])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def request_entry(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _KEPT_OUT
    }
    if "Authorization" in headers:  # moto reads the scope (region, service), not the signature
        headers["Authorization"] = _SIGNATURE.sub("Signature=journaled", headers["Authorization"])
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if not raw_uri:
        raw_uri = str(environ.get("PATH_INFO", "/"))
        if environ.get("QUERY_STRING"):
            raw_uri += "?" + str(environ["QUERY_STRING"])
    return {
        "method": str(environ.get("REQUEST_METHOD", "GET")),
        "uri": raw_uri,
        "headers": headers,
        "body": base64.b64encode(body).decode("ascii"),
    }


class JournalingApp:
    """WSGI middleware around moto's app: state-changing requests run one at a time and, when
    they succeed, are journaled before their answer is returned. `extra_routes` answers paths of
    the toolkit's own (the identity check)."""

    def __init__(
        self,
        app: WsgiApp,
        journal: Journal,
        extra_routes: dict[str, Callable[[], bytes]] | None = None,
    ) -> None:
        self.app = app
        self.journal = journal
        self.extra_routes = extra_routes or {}
        self.write_lock = threading.Lock()
        sqs_replay.install()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        route = self.extra_routes.get(str(environ.get("PATH_INFO", "")))
        if route is not None:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [route()]
        body = Request(environ).get_data(cache=False)
        environ["wsgi.input"] = BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        if not changes_state(environ, body):
            return self.app(environ, start_response)
        operation = operation_of(environ, body)
        with self.write_lock:
            deleted: list[list[Any]] = []
            if operation in sqs_replay.DELETES:  # while the receipt handles name the messages
                fields = sqs_replay.request_fields(str(environ.get("CONTENT_TYPE", "")), body)
                authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
                deleted = sqs_replay.deleted_messages(fields, authorization)
            app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
            answer = b"".join(app_iter)
            if hasattr(app_iter, "close"):
                app_iter.close()
            if int(status.split(" ", 1)[0]) < 400:
                entry = request_entry(environ, body)
                if operation in sqs_replay.DELETES:
                    entry["sqs_deleted"] = deleted
                self.journal.append(entry)
        start_response(status, headers.to_wsgi_list())
        return [answer]


def replay(app: WsgiApp, journal: Journal) -> tuple[int, int]:
    """Run every journaled request through `app`, in order: (replayed, refused)."""
    sqs_replay.install()
    replayed = refused = 0
    for entry in journal.entries():
        if "sqs_deleted" in entry:  # the same messages, by number (tooling.localaws.sqs_replay)
            headers = entry["headers"]
            fields = sqs_replay.request_fields(
                headers.get("Content-Type", ""), base64.b64decode(entry["body"])
            )
            sqs_replay.delete_again(fields, headers.get("Authorization", ""), entry["sqs_deleted"])
            replayed += 1
            continue
        uri = entry["uri"]
        path, _, query = uri.partition("?")
        host = entry["headers"].get("Host", "127.0.0.1")
        builder = EnvironBuilder(
            path=path,
            base_url=f"http://{host}",
            query_string=query,
            method=entry["method"],
            headers=[
                (k, v) for k, v in entry["headers"].items() if k not in ("Host", "Content-Type")
            ],
            content_type=entry["headers"].get("Content-Type"),
            data=base64.b64decode(entry["body"]),
        )
        environ = builder.get_environ()
        environ["RAW_URI"] = uri
        environ["REQUEST_URI"] = uri
        app_iter, status, _ = run_wsgi_app(app, environ, buffered=True)
        if hasattr(app_iter, "close"):
            app_iter.close()
        replayed += 1
        if int(status.split(" ", 1)[0]) >= 400:
            refused += 1
            log.warning("replay: %s %s answered %s", entry["method"], uri, status)
    return replayed, refused
