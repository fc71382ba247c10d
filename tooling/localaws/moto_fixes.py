"""Where moto's CloudFormation differs from AWS in a way the toolkit relies on, made right.

- Executing a change set (moto 5.2.x `ChangeSet.apply`) creates or updates the resources but
  leaves the stack's Outputs as they were: a stack created through a change set has none, one
  updated keeps the old ones. AWS sets them from the new template (the toolkit reads the values
  of `resources:` from them). Fixed by setting the template and outputs as moto's own
  `Stack.update` does.

Applied by the local AWS services' process (tooling.localaws.server) and by the tests' moto
server, which stands in for AWS.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    from moto.cloudformation.models import ChangeSet

    original = ChangeSet.apply

    def apply_with_outputs(self: Any) -> None:
        original(self)
        stack = self.stack
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    ChangeSet.apply = apply_with_outputs  # type: ignore[method-assign]  # the fix is a patch
    _applied = True
