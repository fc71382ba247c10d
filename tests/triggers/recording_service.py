"""A one-function service whose handler appends each event it gets to `seen.jsonl` in the
service folder: what the trigger tests deploy and then read back."""

from __future__ import annotations

from pathlib import Path

SEEN = "seen.jsonl"
HANDLER = """\
import json, os

def {name}(event, context):
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps(event) + "\\n")
    return "ok"
"""


def recording_service(
    folder: Path, events: str, *, service: str, function: str, handler: str
) -> Path:
    """`folder` holding service `service`, whose function `function` (`handler.<handler>`) has
    the `events` (YAML lines under `events:`)."""
    folder.mkdir(exist_ok=True)
    (folder / "handler.py").write_text(HANDLER.format(name=handler))
    (folder / "serverless.yml").write_text(
        f"service: {service}\nprovider:\n  name: aws\n  runtime: python3.12\n"
        f"  environment:\n    SEEN_FILE: {folder / SEEN}\n"
        f"functions:\n  {function}:\n    handler: handler.{handler}\n    events:\n" + events
    )
    return folder
