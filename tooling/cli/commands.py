"""Every command module, imported so that its commands register on the app.

The order here is the order of `tool --help`: the service's life cycle first, then the tools.
"""

import importlib

from tooling.cli.app import app

COMMAND_MODULES = (
    "service_commands",
    "package_cmd",
    "validate_cmd",
    "graph_cmd",
    "queue_cmd",
    "serve_cmd",
    "task_cmd",
    "local_cmd",
)

for _module in COMMAND_MODULES:
    importlib.import_module(f"tooling.cli.{_module}")

__all__ = ["app"]
