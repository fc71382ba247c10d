"""The local AWS services' process: moto's server app behind the journal, on 127.0.0.1.

Usage: python -m tooling.localaws.server DATA_DIR

Started (detached) by tooling.localaws.manager. It takes DATA_DIR/server.lock for its whole life
(the kernel lets go of it when the process dies, however it dies), so at most one server serves a
folder; replays DATA_DIR/journal.jsonl; listens on a free loopback port; and only then writes
DATA_DIR/server.json (pid, port, token), so a reader never finds the address of a server that is
not ready. `GET /_tool/local-aws` answers the token: how a client knows the port is really this
folder's server. Every other request must be signed with the folder's local credentials
(tooling.localaws.signing, .auth): the secret is read from the folder's `.tool` at start.
SIGTERM ends it once no journal write is under way.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

BUSY_EXIT = 75  # another server holds the folder's lock (EX_TEMPFAIL)
IDENTITY_PATH = "/_tool/local-aws"
STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
JOURNAL_FILE = "journal.jsonl"


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    """server.json, replaced atomically (readers see the old file or the new one)."""
    temporary = data_dir / f".{STATE_FILE}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(state, file)
    os.replace(temporary, data_dir / STATE_FILE)


def serve(data_dir: Path) -> int:
    lock_fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another local AWS services process serves this folder", file=sys.stderr)
        return BUSY_EXIT

    # Imported after the lock: a second server exits without paying moto's import time.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from tooling.localaws import moto_fixes, s3_events
    from tooling.localaws.auth import SignatureCheckingApp
    from tooling.localaws.journal import Journal, JournalingApp, replay
    from tooling.localaws.signing import LocalSigning

    signing = LocalSigning.of_folder(data_dir.parent, create=False)
    if signing is None:
        print("the folder's local credentials key is missing", file=sys.stderr)
        return 2

    moto_fixes.apply()

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    started = time.monotonic()
    moto_app = DomainDispatcherApplication(create_backend_app)
    journal = Journal(data_dir / JOURNAL_FILE)
    dropped = journal.repair()
    if dropped:
        logging.warning("journal: dropped %d bytes of a write cut short", dropped)
    replayed, refused = replay(moto_app, journal)
    s3_events.install(data_dir)  # after the replay: replayed requests notify no one again

    token = secrets.token_hex(16)
    identity = json.dumps({"token": token, "pid": os.getpid()}).encode()
    app = JournalingApp(moto_app, journal, {IDENTITY_PATH: lambda: identity})
    checked = SignatureCheckingApp(app, signing, open_paths=[IDENTITY_PATH])
    server = make_server("127.0.0.1", 0, checked, threaded=True)

    def stop(signum: int, frame: object) -> None:
        with app.write_lock:  # no journal line is half-written when the process ends
            with contextlib.suppress(FileNotFoundError):
                (data_dir / STATE_FILE).unlink()
            os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    write_state(
        data_dir,
        {
            "pid": os.getpid(),
            "port": server.server_port,
            "token": token,
            "startedAt": time.time(),
            "replayed": replayed,
            "replayRefused": refused,
            "startSeconds": round(time.monotonic() - started, 3),
        },
    )
    logging.warning(
        "serving on 127.0.0.1:%d (pid %d), %d journaled requests replayed (%d refused)",
        server.server_port,
        os.getpid(),
        replayed,
        refused,
    )
    server.serve_forever()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tooling.localaws.server DATA_DIR", file=sys.stderr)
        return 2
    return serve(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
