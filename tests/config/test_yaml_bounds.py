"""Untrusted YAML stays bounded: alias bombs, recursive aliases and deep nesting are refused
while the document is composed, with the file and line, before anything walks it."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.config.yaml_loader import MAX_ALIAS_NODES, MAX_DEPTH, load_yaml
from tooling.errors import ConfigError, DefinitionError

HEADER = "service: bomb\nprovider:\n  name: aws\ncustom:\n"


def laughs(levels: int, width: int = 9) -> str:
    """The "billion laughs" document: each level repeats the previous one `width` times."""
    lines = ['  l0: &l0 "lol"']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"  l{level}: &l{level} [{items}]")
    return HEADER + "\n".join(lines) + "\n"


def test_nine_level_bomb_is_refused_at_the_alias_that_crosses_the_limit() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            load_yaml(laughs(9), "serverless.yml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = caught.value
    # l5 is the first level whose written-out size (9**5 + ...) passes 100,000 nodes.
    assert (err.file, err.line) == ("serverless.yml", 11)
    assert err.column is not None
    assert "100,000 nodes" in err.message and "*l5" in err.message
    # Refused from the composed node graph (a few hundred nodes), not from a built tree:
    # nine levels written out would be 435 million nodes.
    assert peak < 5 * 1024 * 1024


def test_the_limit_counts_nested_aliases_written_out() -> None:
    # Four levels add 9 + 2*81 + 3*729 + ... nodes; well under the limit, loads as expected.
    value, _ = load_yaml(laughs(4), "serverless.yml")
    assert len(value["custom"]["l4"]) == 9
    assert json.dumps(value).count("lol") == 9**4 + 9**3 + 9**2 + 9 + 1
    # A flat list repeating one big block: exactly at the limit is fine, one node more is not.
    block = "[" + ", ".join(["x"] * 999) + "]"  # 1,000 nodes with the list itself
    under = f"a: &a {block}\nb: [" + ", ".join(["*a"] * (MAX_ALIAS_NODES // 1000)) + "]\n"
    value, _ = load_yaml(under, "x.yml")
    assert len(value["b"]) == MAX_ALIAS_NODES // 1000
    over = under.replace("b: [", "b: [*a, ")
    with pytest.raises(ConfigError, match="past 100,000 nodes"):
        load_yaml(over, "x.yml")


def test_merge_keys_and_ordinary_aliases_still_work() -> None:
    text = (
        "defaults: &defaults\n  memorySize: 256\n  timeout: 10\n"
        "functions:\n  a:\n    <<: *defaults\n    handler: h.a\n  b:\n    <<: *defaults\n"
        "    timeout: 20\n"
    )
    value, _ = load_yaml(text, "serverless.yml")
    assert value["functions"]["a"] == {"memorySize": 256, "timeout": 10, "handler": "h.a"}
    assert value["functions"]["b"] == {"memorySize": 256, "timeout": 20}


def test_a_recursive_alias_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_yaml("a: &a [1, *a]\n", "serverless.yml")
    assert caught.value.line == 1
    assert "recursive" in caught.value.message
    with pytest.raises(ConfigError, match="recursive"):
        load_yaml("a: &a {k: {j: *a}}\n", "serverless.yml")


def test_nesting_is_bounded_also_through_aliases() -> None:
    deep = "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    with pytest.raises(ConfigError, match=f"deeper than {MAX_DEPTH}"):
        load_yaml(deep, "x.yml")
    half = MAX_DEPTH // 2 + 5
    chained = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    with pytest.raises(ConfigError, match="deeper"):
        load_yaml(chained, "x.yml")
    fine = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    load_yaml(fine, "x.yml")


def test_the_error_type_follows_the_reader(tmp_path: Path) -> None:
    # A definition in YAML reports a DefinitionError, as its other errors do.
    with pytest.raises(DefinitionError, match="alias bomb"):
        load_yaml(laughs(9).replace(HEADER, "Comment:\n"), "machine.asl.yml", DefinitionError)


def test_a_bomb_in_a_file_included_with_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "extra.yml").write_text(laughs(9).replace(HEADER, "custom:\n"))
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\ncustom: ${file(extra.yml)}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_service(tmp_path, env={})
    assert caught.value.file == "extra.yml"
    assert caught.value.line == 8


@pytest.mark.parametrize("command", ["validate", "deploy"])
def test_cli_refuses_the_bomb_with_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    (tmp_path / "serverless.yml").write_text(laughs(9))
    monkeypatch.chdir(tmp_path)
    assert main([command]) == 2
    out, err = capsys.readouterr()
    # deploy: one line on stderr; validate: its diagnostic on stdout
    text = out + err
    assert text.count("alias bomb") == 1 and "serverless.yml:11:12" in text
    assert "Traceback" not in text
    assert not (tmp_path / ".tool").exists()
