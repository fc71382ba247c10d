"""Where moto's CloudFormation differs from AWS in a way the toolkit relies on, made right.

- Executing a change set (moto 5.2.x `ChangeSet.apply`) creates or updates the resources but
  leaves the stack's Outputs as they were: a stack created through a change set has none, one
  updated keeps the old ones. AWS sets them from the new template (the toolkit reads the values
  of `resources:` from them). Fixed by setting the template and outputs as moto's own
  `Stack.update` does.

Applied by the local AWS services' process (tooling.localaws.server) and by the tests' moto
server, which stands in for AWS. The fix waits for moto's CloudFormation to be imported:
importing it loads most of moto (EC2, Auto Scaling, ...), over a second of CPU that a server
never asked for a stack does not need to spend when it starts.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

CLOUDFORMATION_MODELS = "moto.cloudformation.models"

_applied = False


def apply() -> None:
    """Fix moto's CloudFormation now if it is loaded, otherwise as soon as it is imported."""
    global _applied
    if _applied:
        return
    _applied = True
    loaded = sys.modules.get(CLOUDFORMATION_MODELS)
    if loaded is not None:
        _fix(loaded)
    else:
        sys.meta_path.insert(0, _FixOnImport())


def _fix(models: ModuleType) -> None:
    change_set = models.ChangeSet
    original = change_set.apply

    def apply_with_outputs(self: Any) -> None:
        original(self)
        stack = self.stack
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    change_set.apply = apply_with_outputs


class _FixOnImport(importlib.abc.MetaPathFinder):
    """Finds moto's CloudFormation models as usual, with a loader that fixes them once run."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CLOUDFORMATION_MODELS:
            return None
        sys.meta_path.remove(self)  # once is enough
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _FixingLoader(spec.loader)
        return spec


class _FixingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _fix(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... of the real one
        return getattr(self.loader, name)
