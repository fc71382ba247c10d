import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_FILES = ("serverless.yml", "handler.py", "statemachine.asl.json")


@pytest.fixture
def service_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example service in a fresh folder, made the working directory."""
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
