from __future__ import annotations

import pytest

from .fakes import Runner


@pytest.fixture
def runner() -> Runner:
    return Runner()
