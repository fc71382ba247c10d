"""`${file(x.js):address}`: values JavaScript modules make, as Serverless resolves them
(tooling/config/js_file_source.py, through tooling/config/variables.py). Needs `node` on PATH."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tooling.errors import ConfigError

from .test_variables import make_resolver, resolve

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs `node` on PATH")


def test_an_exported_value_and_a_nested_address(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = { name: 'x', deep: { list: [1, 2] } };\n"}
    config = resolve(
        tmp_path,
        "a: ${file(./vals.js):name}\nb: ${file(./vals.js):deep.list}\nc: ${file(./vals.js)}\n",
        files=files,
    )
    assert config == {"a": "x", "b": [1, 2], "c": {"name": "x", "deep": {"list": [1, 2]}}}


def test_a_function_is_called_with_options_and_its_promise_awaited(tmp_path: Path) -> None:
    files = {
        "vals.js": (
            "module.exports.tags = async ({ options }) => ({ stage: options.stage, n: 3 });\n"
            "module.exports = Object.assign(module.exports, { plain: () => 'called' });\n"
        )
    }
    config = resolve(
        tmp_path,
        "a: ${file(vals.js):tags}\nb: ${file(vals.js):tags.stage}\nc: ${file(vals.js):plain}\n",
        files=files,
        options={"stage": "prod"},
    )
    assert config == {"a": {"stage": "prod", "n": 3}, "b": "prod", "c": "called"}


def test_a_function_asks_the_toolkit_for_variables_and_properties(tmp_path: Path) -> None:
    files = {
        "vals.js": (
            "module.exports = async ({ resolveVariable, resolveConfigurationProperty }) => {\n"
            "  const stage = await resolveVariable('sls:stage');\n"
            "  const base = await resolveConfigurationProperty(['custom', 'base']);\n"
            "  const fallback = await resolveVariable('env:NOT_SET, \"fb\"');\n"
            "  return `${base}-${stage}-${fallback}`;\n"
            "};\n"
        )
    }
    config = resolve(
        tmp_path,
        "provider: {stage: qa}\ncustom:\n  base: ${env:BASE}\n  name: ${file(vals.js)}\n",
        files=files,
        env={"BASE": "app", "PATH": os.environ["PATH"]},
    )
    assert config["custom"]["name"] == "app-qa-fb"


def test_es_modules_and_their_named_exports(tmp_path: Path) -> None:
    files = {"vals.mjs": "export const region = 'eu-west-1';\nexport default { other: 1 };\n"}
    config = resolve(
        tmp_path, "a: ${file(vals.mjs):region}\nb: ${file(vals.mjs):other}\n", files=files
    )
    assert config == {"a": "eu-west-1", "b": 1}


def test_a_missing_value_takes_the_fallback(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = { a: null };\n"}
    config = resolve(
        tmp_path, "a: ${file(vals.js):a, 'fb'}\nb: ${file(vals.js):nope.deeper, 2}\n", files=files
    )
    assert config == {"a": "fb", "b": 2}


def test_a_missing_value_without_fallback_is_an_error_at_the_variable(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = {};\n"}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "custom:\n  a: ${file(vals.js):nope}\n", files=files)
    assert caught.value.line == 2
    assert "vals.js gives nothing at nope" in str(caught.value)


def test_a_throwing_module_names_its_error_and_line(tmp_path: Path) -> None:
    files = {"lib/vals.js": "const x = 1;\nmodule.exports = () => { throw new Error('boom'); };\n"}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "custom:\n  a: ${file(lib/vals.js)}\n", files=files)
    message = str(caught.value)
    assert caught.value.line == 2
    assert "Error: boom" in message and "lib/vals.js:2:" in message


def test_the_resolver_s_own_error_is_raised_as_it_is(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = ({ resolveVariable }) => resolveVariable('env:NOPE');\n"}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "custom:\n  a: ${file(vals.js)}\n", files=files)
    assert "NOPE" in str(caught.value)


def test_what_the_module_prints_goes_to_stderr_not_into_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"vals.js": "console.log('hello from js');\nmodule.exports = { v: 'ok' };\n"}
    assert resolve(tmp_path, "a: ${file(vals.js):v}\n", files=files) == {"a": "ok"}
    assert "hello from js" in capsys.readouterr().err


def test_the_module_never_sees_aws_credentials(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = { k: process.env.AWS_SECRET_ACCESS_KEY || 'none' };\n"}
    resolver = make_resolver(
        tmp_path,
        "a: ${file(vals.js):k}\n",
        files=files,
        env={"AWS_SECRET_ACCESS_KEY": "s3cr3t", "PATH": os.environ["PATH"]},
    )
    assert resolver.resolve() == {"a": "none"}


def test_a_module_that_asks_for_itself_is_a_cycle_not_a_hang(tmp_path: Path) -> None:
    files = {"vals.js": "module.exports = ({ resolveVariable }) => resolveVariable('self:a');\n"}
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, "a: ${file(vals.js)}\n", files=files)
    assert "circular" in str(caught.value)


ESBUILD = os.environ.get("TOOL_TEST_ESBUILD", "")


@pytest.mark.skipif(
    not (ESBUILD and Path(ESBUILD).exists()),
    reason="needs esbuild (TOOL_TEST_ESBUILD, set by .ci/run)",
)
def test_a_typescript_module_is_built_then_read(tmp_path: Path) -> None:
    files = {
        "vals.ts": (
            "type Opts = { options: { stage?: string } };\n"
            "export const name = ({ options }: Opts): string => `n-${options.stage}`;\n"
        )
    }
    env = {"PATH": f"{Path(ESBUILD).parent}{os.pathsep}{os.environ['PATH']}"}
    config = resolve(
        tmp_path, "a: ${file(vals.ts):name}\n", files=files, options={"stage": "s"}, env=env
    )
    assert config == {"a": "n-s"}
