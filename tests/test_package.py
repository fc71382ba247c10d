from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tooling.config.service import ServiceConfig, load_service
from tooling.errors import HandlerError
from tooling.package import build_package, check_handlers, glob_match, never_packed

# The seed's Lambda handler, verbatim (lines 10 and 15 carry the article's trailing spaces).
# Line 19 has the stray ';' inside the dict literal.
SEED_HANDLER = "\n".join(
    [
        "def lambda_handler(event, context):",
        "    print('value1 = ' + event['key1'])",
        "    print('value2 = ' + event['key2'])",
        "    print('value3 = ' + event['key3'])",
        "    taskresult = event.get('taskresult', None)",
        "    if taskresult is None:",
        "        count = 0",
        "    else:",
        "        count = taskresult.get('count', None)",
        "    ",
        "    if count is None:",
        "        count = 0",
        "    else:",
        "        count = count +1",
        "        ",
        "    if count < 5:",
        "        output = {",
        "            'count' : count,",
        "            'value1' : 'ThereIsNoSpoon';",
        "        }",
        "    else:",
        "        output = { 'value1' : event['key1'],",
        "                    'value2': event['key2'],",
        "                    'count' : count }",
        "    return output",
        "",
    ]
)
FIXED_HANDLER = SEED_HANDLER.replace("'ThereIsNoSpoon';", "'ThereIsNoSpoon'")

SERVERLESS_YML = """\
service: hello-loop
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.lambda_handler
"""


def make_service(
    directory: Path, files: dict[str, str], yml: str = SERVERLESS_YML
) -> ServiceConfig:
    for name, content in {"serverless.yml": yml, "handler.py": FIXED_HANDLER, **files}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return load_service(directory, env={})


# -- check_handlers ------------------------------------------------------------------------------


def test_seed_handler_syntax_error_names_handler_py_line_19(tmp_path: Path) -> None:
    service = make_service(tmp_path, {"handler.py": SEED_HANDLER})
    with pytest.raises(HandlerError) as caught:
        check_handlers(service)
    err = caught.value
    assert (err.file, err.line) == ("handler.py", 19)
    assert err.line is not None and err.column is not None
    line = SEED_HANDLER.splitlines()[err.line - 1]
    assert line[err.column - 1] == ";"
    assert err.message == "invalid syntax"
    assert str(err).startswith(f"handler.py:19:{err.column}: invalid syntax (")


def test_compiler_stage_errors_are_caught_too(tmp_path: Path) -> None:
    code = "def lambda_handler(e, c):\n    pass\nreturn 1\n"
    with pytest.raises(HandlerError) as caught:
        check_handlers(make_service(tmp_path, {"handler.py": code}))
    assert (caught.value.line, caught.value.message) == (3, "'return' outside function")


def test_fixed_seed_handler_passes(tmp_path: Path) -> None:
    check_handlers(make_service(tmp_path, {}))


def test_missing_handler_file(tmp_path: Path) -> None:
    service = make_service(tmp_path, {})
    (tmp_path / "handler.py").unlink()
    with pytest.raises(HandlerError, match="handler file handler.py not found"):
        check_handlers(service)


def test_missing_handler_function_suggests_a_name(tmp_path: Path) -> None:
    code = "def lambda_handlr(event, context):\n    return 1\n"
    service = make_service(tmp_path, {"handler.py": code})
    with pytest.raises(HandlerError) as caught:
        check_handlers(service)
    assert caught.value.file == "handler.py"
    assert "no top-level 'lambda_handler'" in caught.value.message
    assert caught.value.hint == "did you mean 'lambda_handlr'?"


def test_nested_definition_does_not_count(tmp_path: Path) -> None:
    code = "class K:\n    def lambda_handler(self, e, c):\n        pass\n"
    with pytest.raises(HandlerError):
        check_handlers(make_service(tmp_path, {"handler.py": code}))


@pytest.mark.parametrize(
    "code",
    [
        "lambda_handler = lambda event, context: 1\n",
        "from json import dumps as lambda_handler\n",
        "try:\n    import x\nexcept ImportError:\n    def lambda_handler(e, c):\n        pass\n",
        "async def lambda_handler(e, c):\n    pass\n",
    ],
)
def test_other_top_level_bindings_count(tmp_path: Path, code: str) -> None:
    check_handlers(make_service(tmp_path, {"handler.py": code}))


def test_handler_module_is_not_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    code = f"open({str(marker)!r}, 'w').close()\ndef lambda_handler(e, c):\n    pass\n"
    check_handlers(make_service(tmp_path, {"handler.py": code}))
    assert not marker.exists()


# -- build_package ---------------------------------------------------------------------------


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def test_builds_of_one_service_at_the_same_time_do_not_trip_over_each_other(
    tmp_path: Path,
) -> None:
    # Parallel `tool run`s in one service folder each build its package into .tool/build.
    service = make_service(tmp_path / "svc", {"data.json": "{}"})
    start = threading.Barrier(8)

    def build() -> str:
        start.wait()
        return build_package(service, tmp_path / "out").sha256

    with ThreadPoolExecutor(8) as pool:
        digests = set(pool.map(lambda _: build(), range(8)))
    assert len(digests) == 1
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["hello-loop.zip"]


def test_package_is_deterministic_across_builds_and_mtimes(tmp_path: Path) -> None:
    service = make_service(tmp_path / "svc", {"lib/util.py": "X = 1\n", "data.json": "{}"})
    first = build_package(service, tmp_path / "out1")
    first_bytes = first.path.read_bytes()
    for path in (tmp_path / "svc").rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = build_package(service, tmp_path / "out2")
    assert second.path.read_bytes() == first_bytes
    assert second.sha256 == first.sha256
    assert first.sha256 == base64.b64encode(hashlib.sha256(first_bytes).digest()).decode()
    assert first.size == len(first_bytes)
    assert first.path == tmp_path / "out1" / "hello-loop.zip"


def test_content_change_changes_the_hash(tmp_path: Path) -> None:
    service = make_service(tmp_path / "svc", {})
    before = build_package(service, tmp_path / "out").sha256
    (tmp_path / "svc" / "handler.py").write_text(FIXED_HANDLER + "# changed\n")
    assert build_package(service, tmp_path / "out").sha256 != before


def test_zip_entries_are_sorted_with_fixed_times_and_modes(tmp_path: Path) -> None:
    service = make_service(tmp_path / "svc", {"b.py": "", "a/z.py": "", "run.sh": "#!/bin/sh\n"})
    (tmp_path / "svc" / "run.sh").chmod(0o775)
    (tmp_path / "svc" / "b.py").chmod(0o600)
    package = build_package(service, tmp_path / "out")
    with zipfile.ZipFile(package.path) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) == list(package.files)
    assert names == ["a/z.py", "b.py", "handler.py", "run.sh"]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        expected = 0o755 if info.filename == "run.sh" else 0o644
        assert (info.external_attr >> 16) & 0o777 == expected


def test_tooling_folders_never_end_up_in_the_zip(tmp_path: Path) -> None:
    never = [
        ".git/config",
        ".venv/lib/x.py",
        "venv/lib/x.py",
        ".tool/state.db",
        "tests/test_x.py",
        "lib/__pycache__/util.cpython-311.pyc",
        ".serverless/old.zip",
        "tooling/__init__.py",
    ]
    yml = SERVERLESS_YML + "package:\n  patterns: ['**', '.git/**', 'tests/**', '.tool']\n"
    files = {name: "x" for name in never}
    service = make_service(tmp_path / "svc", {**files, "lib/util.py": "X = 1\n"}, yml)
    package = build_package(service, tmp_path / "svc" / ".tool" / "build")
    names = zip_names(package.path)
    assert names == [
        "handler.py",
        "lib/util.py",
        "serverless.yml",
    ]  # '**' brings serverless.yml back
    for name in never:
        assert never_packed(name), name


def test_tool_caches_do_not_change_the_package(tmp_path: Path) -> None:
    # `make test` in the service folder writes these; the next deploy must still be "unchanged".
    service = make_service(tmp_path / "svc", {})
    before = build_package(service, tmp_path / "out1").sha256
    for name in (
        ".pytest_cache/v/cache/lastfailed",
        ".hypothesis/constants/0110965067147198",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/0.1/abc",
        "tooling.egg-info/PKG-INFO",
    ):
        (tmp_path / "svc" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "svc" / name).write_text("changes on every run")
        assert never_packed(name), name
    assert build_package(service, tmp_path / "out2").sha256 == before


def test_serverless_default_excludes_can_be_brought_back(tmp_path: Path) -> None:
    service = make_service(tmp_path / "svc", {".gitignore": "x\n"})
    assert zip_names(build_package(service, tmp_path / "out").path) == ["handler.py"]
    yml = SERVERLESS_YML + "package:\n  patterns: ['serverless.yml']\n"
    service = make_service(tmp_path / "svc2", {}, yml)
    assert zip_names(build_package(service, tmp_path / "out2").path) == [
        "handler.py",
        "serverless.yml",
    ]


def test_patterns_apply_in_order(tmp_path: Path) -> None:
    yml = (
        SERVERLESS_YML.replace(
            "    handler: handler.lambda_handler\n",
            "    handler: handler.lambda_handler\n    package:\n      patterns: ['!big/**']\n",
        )
        + "package:\n  exclude: ['*.md']\n  patterns: ['!docs/**', 'docs/keep.md', '!**/*.tmp']\n"
    )
    files = {
        "README.md": "",
        "docs/a.md": "",
        "docs/keep.md": "",
        "big/blob.bin": "",
        "lib/x.tmp": "",
        "lib/x.py": "",
        "sub/NOTES.md": "",
    }
    service = make_service(tmp_path / "svc", files, yml)
    names = zip_names(build_package(service, tmp_path / "out").path)
    # The function's own `!big/**` counts only with package.individually (as in Serverless,
    # which warns and uses the service-wide patterns).
    assert names == ["big/blob.bin", "docs/keep.md", "handler.py", "lib/x.py", "sub/NOTES.md"]
    assert any("only with package.individually" in w for w in service.warnings)


def test_handler_excluded_by_patterns_is_an_error(tmp_path: Path) -> None:
    yml = SERVERLESS_YML + "package:\n  patterns: ['!*.py']\n"
    service = make_service(tmp_path / "svc", {}, yml)
    with pytest.raises(HandlerError, match="would not be in the package"):
        build_package(service, tmp_path / "out")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "a.py", True),
        ("*.py", "sub/a.py", False),
        ("**/*.py", "sub/deep/a.py", True),
        ("**/*.py", "a.py", True),
        ("docs/**", "docs/a/b.md", True),
        ("docs", "docs/a/b.md", True),
        ("./lib/*.py", "lib/x.py", True),
        ("lib/?.py", "lib/x.py", True),
        ("lib/?.py", "lib/xy.py", False),
        ("{a,b}/*.txt", "b/x.txt", True),
        ("{a,b}/*.txt", "c/x.txt", False),
        ("[ab].txt", "a.txt", True),
        ("[!ab].txt", "a.txt", False),
        ("*", ".hidden", True),
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_package_lists_files_in_its_result(tmp_path: Path) -> None:
    service = make_service(tmp_path / "svc", {"cfg/settings.json": json.dumps({"a": 1})})
    package = build_package(service, tmp_path / "out")
    assert package.files == ("cfg/settings.json", "handler.py")
    with zipfile.ZipFile(package.path) as zf:
        assert json.loads(zf.read("cfg/settings.json")) == {"a": 1}


def test_definition_files_are_not_packed_unless_a_pattern_asks(tmp_path: Path) -> None:
    machine = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    yml = SERVERLESS_YML + (
        "stepFunctions:\n  stateMachines:\n    m:\n      definition: ${file(machines/m.asl.json)}\n"
    )
    service = make_service(tmp_path / "svc", {"machines/m.asl.json": json.dumps(machine)}, yml)
    assert build_package(service, tmp_path / "out").files == ("handler.py",)
    yml_back = yml + "package:\n  patterns:\n    - machines/**\n"
    service = make_service(
        tmp_path / "svc2", {"machines/m.asl.json": json.dumps(machine)}, yml_back
    )
    assert build_package(service, tmp_path / "out2").files == ("handler.py", "machines/m.asl.json")
