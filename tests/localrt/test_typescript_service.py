"""A TypeScript service end to end on the local target: `tool deploy` bundles the `.ts` handler
with the project's esbuild (tooling/typescript.py), then `tool invoke` runs the bundle.

It needs a real esbuild: `.ci/run` installs one and sets TOOL_TEST_ESBUILD (else this skips)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

ESBUILD = os.environ.get("TOOL_TEST_ESBUILD", "")

SERVERLESS = """service: typed
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
plugins:
  - serverless-step-functions
  - serverless-esbuild
functions:
  greet:
    handler: src/greet.handler
stepFunctions:
  stateMachines:
    hello:
      definition:
        StartAt: Greet
        States:
          Greet:
            Type: Task
            Resource: { "Fn::GetAtt": [greet, Arn] }
            End: true
"""
GREET = """import { shout } from "./words";

interface Event { name: string }

export const handler = async (event: Event): Promise<{ greeting: string }> => {
  const greeting: string = shout(`hello ${event.name}`);
  return { greeting };
};
"""
WORDS = """export function shout(text: string): string {
  return text.toUpperCase() + "!";
}
"""


@pytest.mark.skipif(
    not (ESBUILD and Path(ESBUILD).exists() and shutil.which("node")),
    reason="needs esbuild (TOOL_TEST_ESBUILD, set by .ci/run) and `node` on PATH",
)
def test_a_typescript_handler_is_built_deployed_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "typed"
    (folder / "src").mkdir(parents=True)
    (folder / "serverless.yml").write_text(SERVERLESS)
    (folder / "src" / "greet.ts").write_text(GREET)
    (folder / "src" / "words.ts").write_text(WORDS)
    (folder / "in.json").write_text('{"name": "ada"}')
    # As `npm ci` leaves it: node_modules/.bin/esbuild, a link to the package's binary.
    (folder / "node_modules" / ".bin").mkdir(parents=True)
    (folder / "node_modules" / ".bin" / "esbuild").symlink_to(Path(ESBUILD).resolve())
    monkeypatch.chdir(folder)

    assert main(["deploy"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["package", "--list"]) == 0
    assert "src/greet.js" in capsys.readouterr().out
    assert main(["invoke", "--input", "in.json", "--json"]) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    output = json.loads(result["output"]) if isinstance(result["output"], str) else result["output"]
    assert output == {"greeting": "HELLO ADA!"}

    # An edited imported module: `tool invoke` says the deployed code is older (the bundle's
    # sources are watched), and the next deploy makes a new bundle and updates the function.
    (folder / "src" / "words.ts").write_text(WORDS.replace('+ "!"', '+ "?"'))
    assert main(["invoke", "--input", "in.json", "--json"]) == 0
    assert "src/words.ts" in capsys.readouterr().err
    assert main(["deploy"]) == 0
    assert "update    function typed-dev-greet" in capsys.readouterr().out
    assert main(["invoke", "--input", "in.json", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    output = json.loads(result["output"]) if isinstance(result["output"], str) else result["output"]
    assert output == {"greeting": "HELLO ADA?"}
