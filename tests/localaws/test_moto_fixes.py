"""The CloudFormation fix waits for moto's CloudFormation to be imported (tooling.localaws.
moto_fixes): the local AWS services start without loading it, and it is fixed once loaded."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

PROBE = """
import json, sys
from tooling.localaws import moto_fixes
moto_fixes.apply()
loaded_at_once = moto_fixes.CLOUDFORMATION_MODELS in sys.modules
from moto.cloudformation.models import ChangeSet
moto_fixes.apply()  # a second call changes nothing
print(json.dumps({"loaded_at_once": loaded_at_once, "apply": ChangeSet.apply.__qualname__}))
"""


def test_the_fix_applies_when_moto_cloudformation_is_imported_not_before() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == {
        "loaded_at_once": False,
        "apply": "_fix.<locals>.apply_with_outputs",
    }
