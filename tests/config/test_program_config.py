"""serverless.ts/.js/.mjs/.cjs: configurations written as programs, run with Node.js as
Serverless runs them (tooling/config/program_config.py).

The `.ts` cases need a real esbuild: `.ci/run` installs one and sets TOOL_TEST_ESBUILD (else
they skip); all need `node` on PATH (the machine's, as the TypeScript handler tests)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tooling.config.service import config_file_name, load_service
from tooling.errors import ConfigError

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs `node` on PATH")

ESBUILD = os.environ.get("TOOL_TEST_ESBUILD", "")
needs_esbuild = pytest.mark.skipif(
    not (ESBUILD and Path(ESBUILD).exists()),
    reason="needs esbuild (TOOL_TEST_ESBUILD, set by .ci/run)",
)

HANDLER = "def work(event, context):\n    return event\n"
COMMONJS = """\
const stage = '${opt:stage, "dev"}';
module.exports = {
  service: 'programmed',
  provider: { name: 'aws', runtime: 'python3.12', environment: {
    FROM_ENV: process.env.GREETING,
    SECRET: process.env.AWS_SECRET_ACCESS_KEY || 'none',
  } },
  functions: { work: { handler: 'handler.work' } },
  stepFunctions: { stateMachines: { flow: { definition: {
    StartAt: 'W',
    States: { W: { Type: 'Task', Resource: { 'Fn::GetAtt': ['work', 'Arn'] }, End: true } },
  } } } },
  custom: { stage },
};
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def env(**more: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], **more}


def test_a_commonjs_program_is_the_configuration_with_variables_resolved(tmp_path: Path) -> None:
    write(tmp_path, {"serverless.js": COMMONJS, "handler.py": HANDLER})
    assert config_file_name(tmp_path) == "serverless.js"
    svc = load_service(
        tmp_path, env=env(GREETING="hello", AWS_SECRET_ACCESS_KEY="s3cr3t"), stage="prod"
    )
    assert svc.service == "programmed" and svc.stage == "prod"
    assert set(svc.state_machines) == {"flow"}
    # The caller's environment reaches the program, its AWS credentials do not.
    assert svc.functions["work"].environment == {"FROM_ENV": "hello", "SECRET": "none"}


def test_an_es_module_default_export_is_read(tmp_path: Path) -> None:
    program = COMMONJS.replace("module.exports =", "export default")
    write(tmp_path, {"serverless.mjs": program, "handler.py": HANDLER})
    svc = load_service(tmp_path, env=env(GREETING="hi"))
    assert svc.functions["work"].environment["FROM_ENV"] == "hi"


def test_a_yaml_file_is_chosen_before_a_program_as_serverless_chooses(tmp_path: Path) -> None:
    write(tmp_path, {"serverless.js": COMMONJS, "serverless.yml": "service: yaml\n"})
    assert config_file_name(tmp_path) == "serverless.yml"
    assert config_file_name(tmp_path, "serverless.js") == "serverless.js"


def test_an_export_that_is_no_plain_object_is_refused_saying_what_to_export(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"serverless.js": "module.exports = Promise.resolve({service: 'x'});\n"})
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env=env())
    assert refused.value.message == (
        "serverless.js exports a Promise, and Serverless expects a plain object (the configuration)"
    )


def test_a_program_that_throws_is_refused_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, {"serverless.js": "\n\nthrow new Error('no stage set');\n"})
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env=env())
    assert "failed while making the configuration: Error: no stage set" in refused.value.message
    assert (refused.value.file, refused.value.line) == ("serverless.js", 3)


def test_without_node_one_line_says_what_to_do(tmp_path: Path) -> None:
    write(tmp_path, {"serverless.js": COMMONJS})
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env={"PATH": str(tmp_path / "nothing")})
    assert "there is no `node` on PATH" in refused.value.message
    assert "npx serverless print --config serverless.js" in str(refused.value.hint)


TYPED = """\
import type { Settings } from './settings';
import { functionName } from './src/names';

const settings: Settings = { service: 'typed', provider: { name: 'aws', runtime: 'python3.12' } };
export default {
  ...settings,
  functions: { [functionName]: { handler: 'handler.work' } },
};
"""


@needs_esbuild
def test_a_typescript_program_is_bundled_with_what_it_imports_and_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "serverless.ts": TYPED,
            "settings.ts": "export interface Settings { service: string; provider: object }\n",
            "src/names.ts": "export const functionName: string = 'work';\n",
            "handler.py": HANDLER,
            "node_modules/.bin/.keep": "",
        },
    )
    (tmp_path / "node_modules/.bin/esbuild").symlink_to(Path(ESBUILD).resolve())
    svc = load_service(tmp_path, env=env())
    assert svc.service == "typed" and set(svc.functions) == {"work"}
    assert list(tmp_path.rglob("*.js")) == []  # nothing written: the bundle went through a pipe


@needs_esbuild
def test_a_typescript_syntax_error_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, {"serverless.ts": "export default {\n  service: 'x',,\n};\n"})
    with pytest.raises(ConfigError) as refused:
        load_service(tmp_path, env=env(PATH=f"{Path(ESBUILD).parent}:{os.environ['PATH']}"))
    assert refused.value.message.startswith("serverless.ts does not build: ")
    assert (refused.value.file, refused.value.line, refused.value.column) == (
        "serverless.ts",
        2,
        16,
    )  # the second comma
