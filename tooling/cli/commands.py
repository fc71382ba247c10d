"""Every command module, imported so that its commands register on the app."""

from tooling.cli import graph_cmd, queue_cmd, service_commands, validate_cmd  # noqa: F401
from tooling.cli.app import app

__all__ = ["app"]
