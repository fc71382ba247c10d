"""The service's own layers on the local target: a handler imports a module of its layer as on
Lambda (Python: `python/` and `python/lib/python3.x/site-packages`; Node.js:
`nodejs/node_modules`), a changed layer reaches the function on the next deploy, and its layer
package is built as function packages are (no secrets, no link out, reproducible)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.errors import ConfigError
from tooling.package import build_layer_package, build_packages

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SERVICE = """\
service: layered
provider:
  name: aws
  runtime: {runtime}
layers:
  common:
    path: layer
functions:
  hello:
    handler: handler.hello
    layers:
      - {{Ref: CommonLambdaLayer}}
stepFunctions:
  stateMachines:
    main:
      definition:
        StartAt: Call
        States:
          Call: {{Type: Task, Resource: {{Fn::GetAtt: [hello, Arn]}}, End: true}}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def python_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "serverless.yml").write_text(SERVICE.format(runtime="python3.12"))
    (tmp_path / "handler.py").write_text(
        "import greeting\nimport deep\n\n"
        "def hello(event, context):\n    return greeting.greet() + ' ' + deep.NAME\n"
    )
    site = tmp_path / "layer" / "python" / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (tmp_path / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'hi'\n")
    (site / "deep.py").write_text("NAME = 'from site-packages'\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    code, out, err = run(capsys, "invoke", "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_python_handler_imports_from_its_layer_and_sees_a_changed_layer(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == "create    layer common"
    assert invoke(capsys)["output"] == "hi from site-packages"
    (python_service / "layer" / "python" / "greeting.py").write_text(
        "def greet():\n    return 'hey'\n"
    )
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert "update    layer common (code changed)" in out.splitlines()
    assert invoke(capsys)["output"] == "hey from site-packages"
    assert run(capsys, "deploy")[1].splitlines()[-1] == "No changes."
    code, out, err = run(capsys, "remove")
    assert code == 0, err
    assert "delete    layer common (tool remove)" in out.splitlines()


@pytest.mark.skipif(shutil.which("node") is None, reason="no `node` on PATH")
def test_a_nodejs_handler_requires_a_module_of_its_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "serverless.yml").write_text(SERVICE.format(runtime="nodejs20.x"))
    (tmp_path / "handler.js").write_text(
        "const greeting = require('greeting');\nexports.hello = async () => greeting.greet();\n"
    )
    module = tmp_path / "layer" / "nodejs" / "node_modules" / "greeting"
    module.mkdir(parents=True)
    (module / "index.js").write_text("exports.greet = () => 'hi from node';\n")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "deploy")[0] == 0
    assert invoke(capsys)["output"] == "hi from node"


def test_the_layer_package_holds_its_folder_at_the_root_and_is_reproducible(
    python_service: Path,
) -> None:
    (python_service / "layer" / ".env").write_text("SECRET=1\n")
    svc = load_service(python_service, env={})
    build = python_service / ".tool" / "build"
    first = build_layer_package(svc, svc.layers["common"], build)
    with zipfile.ZipFile(first.path) as zipped:
        assert sorted(zipped.namelist()) == [
            "python/greeting.py",
            "python/lib/python3.12/site-packages/deep.py",
        ]
    again = build_layer_package(svc, svc.layers["common"], build)
    assert again.sha256 == first.sha256
    service_zip = build_packages(svc, build).service
    assert service_zip is not None
    assert not any(f.startswith("layer/") for f in service_zip.files)  # packaged as the layer


def test_a_link_out_of_the_service_in_a_layer_is_refused(
    python_service: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "notes.txt"
    outside.write_text("secret")
    (python_service / "layer" / "python" / "notes.txt").symlink_to(outside)
    svc = load_service(python_service, env={})
    with pytest.raises(ConfigError) as refused:
        build_layer_package(svc, svc.layers["common"], python_service / ".tool" / "build")
    assert "outside the service folder" in refused.value.message


def test_tool_run_gives_a_handler_its_layer_without_a_deploy(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (python_service / "def.json").write_text(
        '{"StartAt": "C", "States": {"C": {"Type": "Task", '
        '"Resource": {"Fn::GetAtt": ["hello", "Arn"]}, "End": true}}}'
    )
    code, out, err = run(capsys, "run", "def.json", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == "hi from site-packages"


def test_a_layer_whose_unpacked_code_went_missing_is_published_again(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    shutil.rmtree(python_service / ".tool" / "code")
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert "update    layer common (code missing from .tool/code)" in out.splitlines()
    assert invoke(capsys)["output"] == "hi from site-packages"


def test_a_layer_given_as_a_prebuilt_zip_is_deployed_as_it_is(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(python_service / "prebuilt.zip", "w") as zipped:
        zipped.writestr("python/greeting.py", "def greet():\n    return 'zipped'\n")
        zipped.writestr("python/deep.py", "NAME = 'too'\n")
    text = (python_service / "serverless.yml").read_text()
    text = text.replace("    path: layer\n", "    package:\n      artifact: prebuilt.zip\n")
    (python_service / "serverless.yml").write_text(text)
    shutil.rmtree(python_service / "layer")
    assert run(capsys, "deploy")[0] == 0
    assert invoke(capsys)["output"] == "zipped too"


def test_the_services_patterns_and_the_layers_apply_in_the_layers_folder(
    python_service: Path,
) -> None:
    text = (python_service / "serverless.yml").read_text()
    text = text.replace(
        "    path: layer\n", "    path: layer\n    package:\n      patterns: ['python/keep.txt']\n"
    )
    (python_service / "serverless.yml").write_text(text + "package:\n  patterns: ['!**/*.txt']\n")
    (python_service / "layer" / "python" / "keep.txt").write_text("kept")
    (python_service / "layer" / "python" / "drop.txt").write_text("dropped")
    svc = load_service(python_service, env={})
    package = build_layer_package(svc, svc.layers["common"], python_service / ".tool" / "build")
    assert "python/keep.txt" in package.files
    assert "python/drop.txt" not in package.files


def test_locally_only_the_layers_other_than_the_services_own_are_said_missing(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (python_service / "serverless.yml")
        .read_text()
        .replace(
            "      - {Ref: CommonLambdaLayer}\n",
            "      - {Ref: CommonLambdaLayer}\n"
            "      - !Sub arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:layer:wrangler:1\n",
        )
    )
    (python_service / "serverless.yml").write_text(text)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "are not on this machine" in line]
    assert len(notes) == 1 and "its layers other than the service's own" in notes[0]
    (python_service / "serverless.yml").write_text(text.replace("      - !Sub arn", "      # "))
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert "are not on this machine" not in err


def test_invoke_says_when_a_layers_file_changed_since_the_deploy(
    python_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (python_service / "layer" / "python" / "greeting.py").write_text(
        "def greet():\n    return 'hey'\n"
    )
    code, out, err = run(capsys, "invoke", "--json")
    assert code == 0, err
    assert "warning: layer/python/greeting.py changed since the last deploy" in err
    assert json.loads(out)["output"] == "hi from site-packages"  # the deployed version runs
