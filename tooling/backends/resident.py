"""The resident runtime of a service folder as the local target starts it.

It is `tooling.localrt.resident` plus what only this layer can do: the take-over of executions
whose worker died (`LocalBackend.resume_stalled`), every few seconds while it runs, so that such
an execution is resumed even when no command looks at it, as AWS carries an execution on when
its host dies. The workers it starts for them are started with exec, not forked from itself
(it is busy sweeping then).

    python -m tooling.backends.resident TOOL_DIR ENVIRONMENT_DIGEST
"""

from __future__ import annotations

import sys
from pathlib import Path

from tooling.localrt import resident


def resume_stalled(tool_dir: Path) -> None:
    from tooling.backends.local import LocalBackend

    # The region does not matter: every region's executions are in the folder's one store.
    backend = LocalBackend(tool_dir.parent, "us-east-1")
    backend.resident = None
    try:
        backend.resume_stalled()
    finally:
        backend.store.close()  # no open SQLite connection goes into the next forked worker


if __name__ == "__main__":
    sys.exit(resident.main(sys.argv[1:], resume_stalled=resume_stalled))
