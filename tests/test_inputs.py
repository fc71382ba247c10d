"""The input reader shared by invoke, run and send: --input/--path (JSON or YAML), --data,
nothing means {}, and bounds on size and nesting before anything is parsed whole."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tooling.errors import InputError
from tooling.inputs import MAX_DEPTH, check_depth, read_execution_input
from tooling.names import MAX_INPUT_BYTES


def test_a_json_error_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "in.json"
    bad.write_text('{\n  "a": 1,\n}\n')
    with pytest.raises(InputError) as caught:
        read_execution_input(str(bad))
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(bad), 3, 1)
    assert caught.value.exit_code == 2


def test_input_that_is_not_utf8_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    latin1 = tmp_path / "in.json"
    latin1.write_bytes('{"name": "Zoë"}'.encode("latin-1"))
    with pytest.raises(InputError) as caught:
        read_execution_input(str(latin1))
    assert caught.value.render() == (
        f"{latin1}: not UTF-8 text (byte 12: invalid continuation byte) (save it as UTF-8)"
    )

    class Stdin:
        buffer = io.BytesIO(b"\xff{}")

    monkeypatch.setattr("sys.stdin", Stdin)
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_execution_input("-")


def test_a_missing_file_is_named() -> None:
    with pytest.raises(InputError, match="no such file"):
        read_execution_input("/nonexistent/in.json")


def test_no_input_means_an_empty_object() -> None:
    assert read_execution_input() == "{}"


def test_inline_data_is_kept_verbatim_once_checked() -> None:
    assert read_execution_input(data='{"a":  1}') == '{"a":  1}'
    with pytest.raises(InputError) as caught:
        read_execution_input(data="{'a': 1}")
    assert caught.value.file == "--data"


def test_a_yaml_file_becomes_json(tmp_path: Path) -> None:
    (tmp_path / "in.yml").write_text("key1: value1\nitems:\n  - 1\n  - two\n")
    text = read_execution_input(path=str(tmp_path / "in.yml"))
    assert json.loads(text) == {"key1": "value1", "items": [1, "two"]}
    assert read_execution_input(str(tmp_path / "in.yml")) == text  # --input takes YAML too


def test_a_yaml_date_is_refused_rather_than_guessed(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text("when: 2024-01-01\n")
    with pytest.raises(InputError, match="quote dates"):
        read_execution_input(path=str(tmp_path / "in.yaml"))


def test_two_sources_of_input_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--input and --data both give the input"):
        read_execution_input("in.json", data="{}")


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:
        out.truncate(100 * 1024 * 1024)  # 100 MB, sparse
    reads: list[int] = []
    real_open = Path.open

    def spying_open(self: Path, *args: object, **kwargs: object) -> object:
        stream = real_open(self, *args, **kwargs)  # type: ignore[call-overload]  # open's args
        real_read = stream.read

        def read(n: int = -1) -> Any:
            reads.append(n)
            return real_read(n)

        stream.read = read  # the stream's reads, counted
        return stream

    monkeypatch.setattr(Path, "open", spying_open)
    with pytest.raises(InputError) as caught:
        read_execution_input(str(huge))
    assert f"larger than {MAX_INPUT_BYTES} bytes" in caught.value.message
    assert reads == []  # refused on its size alone


def test_stdin_is_read_no_further_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    class Endless:
        def read(self, n: int = -1) -> bytes:
            asked.append(n)
            return b" " * n

    class Stdin:
        buffer = Endless()

    monkeypatch.setattr("sys.stdin", Stdin)
    with pytest.raises(InputError, match="larger than"):
        read_execution_input("-")
    assert asked == [MAX_INPUT_BYTES + 1]


def test_deep_nesting_is_refused_before_parsing(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 10_000 + "]" * 10_000)
    with pytest.raises(InputError) as caught:
        read_execution_input(str(deep))
    assert f"nested more than {MAX_DEPTH} levels" in caught.value.message
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert read_execution_input(data=at_limit) == at_limit


def test_brackets_inside_strings_do_not_count() -> None:
    check_depth(json.dumps(["[" * 5000, "{" * 5000]), "x")
    with pytest.raises(InputError):
        check_depth('{"a": "\\"[", "b": ' + "[" * (MAX_DEPTH + 1), "x")


def test_deep_yaml_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yml"
    deep.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(InputError) as caught:  # the YAML loader's own bound comes first
        read_execution_input(path=str(deep))
    assert "nest" in caught.value.message and caught.value.line == 1
