"""Field test: real serverless.yml projects through the toolkit, as their authors would run them.

Each project of a manifest (a JSON list; see `--help`) is copied to a scratch folder and taken
through `tool validate`, `plan`, `deploy`, `info` and `remove` on the local target, then
`deploy --dry-run`, `deploy`, `info` and `remove` with `--target aws` against a moto server on
127.0.0.1 (reset between projects), with the inputs Serverless itself would need: the stage,
environment variables, `--param` values, and the AWS profiles named in the file (written to a
scratch `~/.aws/config` in a temporary HOME, with made-up keys). Nothing reaches the network
beyond loopback.

Per project it prints one row: `works`, `works-aws` (works, but for a designed local refusal
such as a runtime the local runtime cannot run), `moto-limit` (refused on moto for what moto
cannot create, named in the manifest), `refused-upstream` (Serverless or AWS refuses the file
too), `refused` (exit 2 with a message: the first one is shown), `failed` (exit 1), `crashed`
(a traceback, an internal error, another exit code or a timeout) or `wrong` (everything exits 0
but what landed on moto differs from serverless.yml: a function's runtime or handler, or a
definition holding an unresolved variable). `--json FILE` writes every step's exit code and
last lines, to compare a run before and after a change (`--compare OLD.json`).

    .venv/bin/python bench/field_test.py --manifest projects.json [--tool PATH] [--only NAME]

The yardstick is the run of the same manifest with another build of the toolkit (`--tool`
pointing at its `tool`), e.g. the main branch before a change: `--compare` prints both columns.

A manifest entry:
    {"name": "shop", "root": "/src/shop-repo", "dir": "services/shop",
     "config": "serverless.yml", "stage": "dev", "env": {"X": "1"}, "params": {"k": "v"},
     "args": ["--region", "eu-west-1"],
     "profiles": ["dev"], "local": true, "setup": "shell command", "region": "eu-west-1",
     "account": "123456789012",
     "ssm": {"/path": "value"}, "stacks": {"other-stack": {"Output": "value"}},
     "roles": ["LabRole"], "exports": {"other-dev-UserPoolId": "us-east-1_x"},
     "layers": ["arn:aws:lambda:us-east-2:770693421928:layer:Klayers-p38-requests:6"],
     "event_buses": ["WebinarEventBus"], "rest_apis": ["other-api"],
     "stream_tables": ["other-table"], "note": "..."}
`root` is copied whole (a `${file(../x.yml)}` may leave `dir`); `dir` defaults to the root;
`local: false` marks a service whose runtimes the local runtime does not run (its local deploy
refusal is the designed one); `local_refusal` is the text of another documented local limit;
`aws_limit` the text of a refusal that comes from what moto (standing in for AWS) cannot create;
`refused_by: {"who": "Serverless", "text": "invalid YAML"}` marks a file Serverless or AWS
refuses too (the toolkit's refusal must hold the text).
Profiles named by `profile:` lines in the file are added.
`account` makes moto that account (for a file naming roles of its author's account);
`setup` runs in the service folder first (it stands in for the author's build: a prebuilt zip,
a git-ignored file); `ssm`, `stacks`, `roles` and `exports` are put on both targets first
(SSM parameters and other services' stack Outputs that `${ssm:}` and `${cf:}` read, roles of
the account the file names by ARN, exports that `Fn::ImportValue` reads), in `region`; `layers`
(layer version ARNs the functions use, often another account's public layer) are published on
the moto server, up to their version, in their region; `event_buses` (EventBridge buses the
file's rules use and no file creates: they exist in its author's account) are created on the
moto server; `rest_apis` are REST APIs of another of the author's services, created first: an
export whose value is `$rest_api:<name>` or `$rest_api_root:<name>` gets its id or root resource
id; `stream_tables` are DynamoDB tables of another service, created with a stream: an export
whose value is `$table_stream:<name>` gets the stream's ARN.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LINK_NODE_MODULES = False  # --node-modules
IGNORED = shutil.ignore_patterns("node_modules", ".git", ".serverless", ".tool", ".venv")
CRASH_MARKS = ("Traceback (most recent call last)", "internal error", "Internal error")
STEP_TIMEOUT = 600.0


@dataclass
class Step:
    command: str
    code: int
    seconds: float
    last: str
    warnings: int
    crashed: bool


@dataclass
class Result:
    name: str
    outcome: str
    why: str
    steps: list[Step] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    local: str = ""
    aws: str = ""
    warnings: int = 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Moto:
    """A moto server on loopback, with the toolkit's CloudFormation fix (stack Outputs set by
    a change set, as AWS does), reset before each project."""

    def __init__(self, python: str, account: str | None = None, policies: bool = False) -> None:
        self.python = python
        self.account = account
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = (
            "import logging, sys\n"
            "from tooling.localaws import moto_fixes\n"
            "moto_fixes.apply()\n"
            "logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
            "from moto.server import main\n"
            f"main(['-H', '127.0.0.1', '-p', '{self.port}'])\n"
        )
        env = {
            **os.environ,
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        }  # AWS's managed policies exist
        if account:
            env["MOTO_ACCOUNT_ID"] = account
        self.process = subprocess.Popen(
            [python, "-c", code],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("moto server did not start")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def profiles_named(text: str) -> set[str]:
    names = set()
    for match in re.finditer(r"^\s*profile:\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*(#.*)?$", text, re.M):
        names.add(match.group(1))
    return names


def scratch_home(home: Path, profiles: set[str]) -> None:
    aws = home / ".aws"
    aws.mkdir(parents=True)
    config = ["[default]", "region = us-east-1"]
    credentials = ["[default]", "aws_access_key_id = testing", "aws_secret_access_key = testing"]
    for name in sorted(profiles):
        config += [f"[profile {name}]", "region = us-east-1"]
        credentials += [
            f"[{name}]",
            "aws_access_key_id = testing",
            "aws_secret_access_key = testing",
        ]
    (aws / "config").write_text("\n".join(config) + "\n")
    (aws / "credentials").write_text("\n".join(credentials) + "\n")


def seed(
    endpoint: str, region: str, entry: dict[str, Any], keys: dict[str, str] | None = None
) -> None:
    """The SSM parameters and other stacks' Outputs the service reads, as its account has them.
    `keys`: the credentials the endpoint takes (the local AWS services' own)."""
    import boto3

    keys = keys or {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    kwargs: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": region,
        "aws_access_key_id": keys["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": keys["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": keys.get("AWS_SESSION_TOKEN"),
    }
    for layer in entry.get("layers") or []:  # arn:aws:lambda:<region>:<account>:layer:<name>:<v>
        # moto finds a layer by name in the caller's account, whatever account the ARN names:
        # publishing it there up to its version stands in for another account's public layer.
        parts = layer.split(":")
        lambda_ = boto3.client("lambda", **{**kwargs, "region_name": parts[3]})
        empty_zip = b"PK\x05\x06" + b"\0" * 18
        for _ in range(int(parts[7])):
            lambda_.publish_layer_version(LayerName=parts[6], Content={"ZipFile": empty_zip})
    for bus in entry.get("event_buses") or []:
        boto3.client("events", **kwargs).create_event_bus(Name=bus)
    if entry.get("ssm"):
        ssm = boto3.client("ssm", **kwargs)
        for name, value in entry["ssm"].items():
            ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    if entry.get("roles"):
        iam = boto3.client("iam", **kwargs)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        for role in entry["roles"]:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    exports = dict(entry.get("exports") or {})
    made: dict[str, str] = {}
    for api in entry.get("rest_apis") or []:  # another stack's REST API, which exports its ids
        apigateway = boto3.client("apigateway", **kwargs)
        rest_api = apigateway.create_rest_api(name=api)
        made[f"$rest_api:{api}"] = rest_api["id"]
        made[f"$rest_api_root:{api}"] = rest_api["rootResourceId"]
    for table in entry.get("stream_tables") or []:  # another stack's table, exporting its stream
        dynamodb = boto3.client("dynamodb", **kwargs)
        made[f"$table_stream:{table}"] = dynamodb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]  # fmt: skip
    exports = {name: made.get(value, value) for name, value in exports.items()}
    if exports:  # values other stacks export (Fn::ImportValue), in one stack of their own
        outputs = {
            f"Export{index}": {"Value": value, "Export": {"Name": name}}
            for index, (name, value) in enumerate(sorted(exports.items()))
        }
        template = {"Resources": {"Holder": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
        cloudformation = boto3.client("cloudformation", **kwargs)
        cloudformation.create_stack(StackName="field-exports", TemplateBody=json.dumps(template))
    if entry.get("stacks"):
        cloudformation = boto3.client("cloudformation", **kwargs)
        for stack, outputs in entry["stacks"].items():
            template = {
                "Resources": {"Holder": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
            cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def run_step(tool: str, args: list[str], cwd: Path, env: dict[str, str]) -> Step:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [tool, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as stopped:
        code = -999
        out = _text(stopped.stdout)
        err = f"{_text(stopped.stderr)}\ntimed out after {STEP_TIMEOUT:.0f} s"
    seconds = time.monotonic() - started
    lines = [line for line in err.splitlines() if line.strip()]
    both = lines + [line for line in out.splitlines() if line.strip()]
    errors = [
        line for line in both if re.search(r"(^|: )error\b", line) or line.startswith("Error")
    ]
    errors += [
        line.strip("│ ") for line in both if "No such option" in line or "Got unexpected" in line
    ]
    last = errors[0] if errors else (lines[-1] if lines else out.strip()[-300:])
    warnings = sum(
        1
        for line in lines
        if "warning" in line.split(":", 3)[-1][:12] or line.startswith("warning")
    )
    crashed = code not in (0, 1, 2) or any(mark in err for mark in CRASH_MARKS)
    return Step(" ".join(args), code, round(seconds, 2), last[:400], warnings, crashed)


def literal(value: Any) -> str | None:
    return value if isinstance(value, str) and "${" not in value else None


def raw_functions(config: Path) -> tuple[dict[str, Any], str | None]:
    """The functions and provider runtime as written (no variables resolved), for the check."""
    import yaml

    class Loose(yaml.SafeLoader):
        pass

    Loose.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        data = yaml.load(config.read_text(), Loader=Loose)  # noqa: S506 (SafeLoader subclass)
    except yaml.YAMLError:
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    provider = data.get("provider")
    functions = data.get("functions")
    runtime = literal(provider.get("runtime")) if isinstance(provider, dict) else None
    return (functions if isinstance(functions, dict) else {}), runtime


def check_on_moto(endpoint: str, plan: dict[str, Any], config: Path) -> list[str]:
    """What landed on moto against serverless.yml: runtimes and handlers written literally, and
    definitions without an unresolved variable or intrinsic."""
    import boto3

    problems: list[str] = []
    region = plan.get("region", "us-east-1")
    kwargs: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": region,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    lam = boto3.client("lambda", **kwargs)
    sfn = boto3.client("stepfunctions", **kwargs)
    functions, provider_runtime = raw_functions(config)
    deployed = {c["name"] for c in plan.get("changes", []) if c.get("kind") == "function"}
    for key, spec in functions.items():
        if not isinstance(spec, dict):
            continue
        name = next((n for n in deployed if n.endswith(f"-{key}") or n == spec.get("name")), None)
        if name is None:
            continue
        try:
            conf = lam.get_function_configuration(FunctionName=name)
        except Exception as error:  # noqa: BLE001 (a check, reported)
            problems.append(f"function {name}: {error}")
            continue
        runtime = literal(spec.get("runtime")) or provider_runtime
        if runtime and conf.get("Runtime") != runtime:
            problems.append(f"function {key}: runtime {conf.get('Runtime')} != {runtime}")
        handler = literal(spec.get("handler"))
        if handler and conf.get("Handler") != handler:
            problems.append(f"function {key}: handler {conf.get('Handler')} != {handler}")
    for machine in sfn.list_state_machines().get("stateMachines", []):
        definition = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])[
            "definition"
        ]
        for mark in ("${", "#{", '"Fn::', '"Ref"'):
            if mark in definition:
                problems.append(f"state machine {machine['name']}: definition holds {mark}")
    return problems


def stop_local_services(tool: str, tree: Path) -> None:
    """Local AWS services a step started and no `tool remove` stopped (a refused project)."""
    for lock in tree.rglob(".tool/aws/server.json"):
        folder = lock.parent.parent.parent
        subprocess.run([tool, "local", "stop"], cwd=folder, capture_output=True, timeout=60)


def seed_local(
    tool: str,
    service: Path,
    env: dict[str, str],
    region: str,
    entry: dict[str, Any],
    result: Result,
) -> None:
    """Seed the folder's local AWS services: `tool local env --json` gives their endpoint and
    the credentials they take (signed local services); an older build's `tool local start`
    gives the endpoint of services that take any."""
    asked = subprocess.run(
        [tool, "local", "env", "--json"], cwd=service, env=env, capture_output=True, text=True
    )
    if asked.returncode == 0:
        variables = json.loads(asked.stdout)
        variables = variables.get("environment", variables)
        seed(variables["AWS_ENDPOINT_URL"], region, entry, variables)
        return
    started = subprocess.run(
        [tool, "local", "start"], cwd=service, env=env, capture_output=True, text=True
    )
    if started.returncode == 0 and started.stdout.strip():
        seed(started.stdout.strip().splitlines()[-1], region, entry)
    else:
        result.steps.append(Step("local start", started.returncode, 0.0, started.stderr, 0, False))


def run_project(entry: dict[str, Any], tool: str, moto: Moto, keep: Path | None) -> Result:
    name = entry["name"]
    root = Path(entry["root"])
    work = Path(tempfile.mkdtemp(prefix=f"field-{name}-"))
    try:
        shutil.copytree(root, work / "src", ignore=IGNORED, symlinks=True)
        service = work / "src" / entry.get("dir", ".")
        installed = root / entry.get("dir", ".") / "node_modules"
        if LINK_NODE_MODULES and installed.is_dir():
            # As `npm ci` leaves the project (--node-modules): its packages, linked not copied.
            (service / "node_modules").symlink_to(installed)
        config_name = entry.get("config", "serverless.yml")
        config = service / config_name
        text = config.read_text(errors="replace") if config.exists() else ""
        home = work / "home"
        scratch_home(home, profiles_named(text) | set(entry.get("profiles", [])))
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TMPDIR": str(work),
            **entry.get("env", {}),
        }
        common: list[str] = []
        if entry.get("stage"):
            common += ["--stage", entry["stage"]]
        for key, value in entry.get("params", {}).items():
            common += ["--param", f"{key}={value}"]
        common += entry.get("args", [])  # options the author's commands pass (--region ...)
        if config_name != "serverless.yml":
            common += ["--config", config_name]
        result = Result(name, "", "")
        if entry.get("setup"):
            subprocess.run(
                entry["setup"], shell=True, cwd=service, env=env, check=True, timeout=120
            )  # noqa: S602
        region = entry.get("region", "us-east-1")
        if any(
            entry.get(k) for k in ("ssm", "stacks", "roles", "exports", "layers", "stream_tables")
        ):
            try:
                seed_local(tool, service, env, region, entry, result)
            except Exception as error:  # noqa: BLE001 (the driver's own setup: reported)
                result.steps.append(Step("seed local", 99, 0.0, repr(error)[:400], 0, True))
        local = [["validate"], ["plan"], ["deploy"], ["info"], ["remove"]]
        for args in local:
            result.steps.append(run_step(tool, [*args, *common], service, env))
        moto.reset()
        seed(moto.url, region, entry)
        aws_env = {**env, "AWS_ENDPOINT_URL": moto.url}
        aws = [["deploy", "--dry-run"], ["deploy"], ["info"], ["remove"]]
        for args in aws:
            step = run_step(tool, [*args, "--target", "aws", *common], service, aws_env)
            result.steps.append(step)
            if args == ["deploy"] and step.code == 0:
                plan_step = subprocess.run(
                    [tool, "plan", "--json", "--target", "aws", *common],
                    cwd=service,
                    env=aws_env,
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT,
                )
                try:
                    plan = json.loads(plan_step.stdout)
                    result.checks = check_on_moto(moto.url, plan, config)
                except (ValueError, KeyError) as error:
                    result.checks = [f"plan --json after deploy: {error}"]
        classify(result, entry)
        return result
    finally:
        stop_local_services(tool, work / "src")
        if keep is not None:
            shutil.move(str(work), keep / name)
        else:
            shutil.rmtree(work, ignore_errors=True)


def phase_outcome(steps: list[Step], designed: tuple[str, ...]) -> tuple[str, str]:
    """One phase's outcome: the first crash or non-zero exit decides it; a refusal holding one
    of the `designed` texts is the target's documented limit."""
    for step in steps:
        if step.crashed:
            return "crashed", f"{step.command}: {step.last}"
        if step.code != 0:
            if step.code == 2 and any(text in step.last for text in designed):
                return "runtime", f"{step.command}: {step.last}"
            return ("refused" if step.code == 2 else "failed"), f"{step.command}: {step.last}"
    return "works", ""


def classify(result: Result, entry: dict[str, Any]) -> None:
    """`works` when every step of both phases exits 0 and the check on moto finds nothing;
    `works-aws` when the only refusal is the local target's documented limit: a runtime the
    local runtime does not run (`"local": false`), or `local_refusal` (a text of the refusal,
    e.g. an activity Task); `moto-limit` when the AWS phase's refusal holds `aws_limit` (what
    moto, standing in for AWS, cannot do: the local phase's designed limit counts as above);
    `refused-upstream` when the refusal holds `refused_by.text`: Serverless or AWS refuses the
    file too (`refused_by.who` says which); otherwise the worst of the two phases."""
    local_steps = [s for s in result.steps if "--target aws" not in s.command]
    aws_steps = [s for s in result.steps if "--target aws" in s.command]
    designed: tuple[str, ...] = ()
    if not entry.get("local", True):  # the local runtime's refusal of a runtime it does not run
        designed = ("local runtime cannot run", "does not run on the local target")
    if entry.get("local_refusal"):
        designed += (entry["local_refusal"],)
    result.local, local_why = phase_outcome(local_steps, designed)
    aws_limit = (entry["aws_limit"],) if entry.get("aws_limit") else ()
    result.aws, aws_why = phase_outcome(aws_steps, aws_limit)
    if result.aws == "runtime":
        result.aws = "endpoint"
    if result.aws == "works" and result.checks:
        result.aws, aws_why = "wrong", "; ".join(result.checks)
    order = ["crashed", "wrong", "failed", "refused", "endpoint", "runtime", "works"]
    worst = min((result.local, local_why), (result.aws, aws_why), key=lambda o: order.index(o[0]))
    result.outcome, result.why = worst
    result.outcome = {"runtime": "works-aws", "endpoint": "moto-limit"}.get(
        result.outcome, result.outcome
    )
    upstream = entry.get("refused_by") or {}
    if result.outcome == "refused" and upstream.get("text", "\0") in result.why:
        result.outcome = "refused-upstream"
        result.why = f"{upstream.get('who', '?')} refuses it too: {result.why}"
    result.warnings = max((s.warnings for s in result.steps), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--tool", default=str(ROOT / ".venv" / "bin" / "tool"))
    parser.add_argument(
        "--python", default=str(ROOT / ".venv" / "bin" / "python"), help="runs the moto server"
    )
    parser.add_argument("--only", action="append", default=[], help="a project name (repeatable)")
    parser.add_argument("--json", type=Path, help="write every step's result here")
    parser.add_argument(
        "--compare", type=Path, help="a --json file of an earlier run: print both outcomes"
    )
    parser.add_argument(
        "--node-modules",
        action="store_true",
        help="link each project's installed node_modules (npm ci) into its scratch copy",
    )
    parser.add_argument("--keep", type=Path, help="keep each project's scratch folder here")
    parser.add_argument(
        "--reclassify",
        type=Path,
        help="a --json file: classify its steps again (into --json, or in place), run nothing",
    )
    args = parser.parse_args()
    global LINK_NODE_MODULES
    LINK_NODE_MODULES = args.node_modules
    entries = json.loads(args.manifest.read_text())
    if args.only:
        entries = [e for e in entries if e["name"] in args.only]
    earlier: dict[str, dict[str, Any]] = {}
    results_again: list[Result] = []
    if args.compare:
        earlier = {r["name"]: r for r in json.loads(args.compare.read_text())["results"]}
    if args.reclassify:
        for item in json.loads(args.reclassify.read_text())["results"]:
            entry = next((e for e in entries if e["name"] == item["name"]), None)
            if entry is None:
                continue
            result = Result(item["name"], "", "", [Step(**step) for step in item["steps"]])
            result.checks = item.get("checks", [])
            classify(result, entry)
            results_again.append(result)
        payload = {"tool": "reclassified", "results": [asdict(r) for r in results_again]}
        (args.json or args.reclassify).write_text(json.dumps(payload, indent=2) + "\n")
        for result in results_again:
            print(f"{result.name:22s} {result.outcome:9s} {result.why[:150]}")
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    moto = Moto(args.python)
    results: list[Result] = []
    started = time.monotonic()
    try:
        for entry in entries:
            text = (
                Path(entry["root"]) / entry.get("dir", ".") / entry.get("config", "serverless.yml")
            )
            policies = (
                "arn:aws:iam::aws:policy/" in text.read_text(errors="replace")
                if text.exists()
                else False
            )
            if (
                entry.get("account") or policies
            ):  # moto as the author's account, or with AWS's policies
                own = Moto(args.python, entry.get("account"), policies)
                try:
                    result = run_project(entry, args.tool, own, args.keep)
                finally:
                    own.stop()
            else:
                result = run_project(entry, args.tool, moto, args.keep)
            results.append(result)
            before = earlier.get(result.name, {}).get("outcome", "")
            column = f"{before:9s} -> " if args.compare else ""
            phases = f"local {result.local:8s} aws {result.aws:8s}"
            print(
                f"{result.name:22s} {column}{result.outcome:9s} {phases}"
                f" warn {result.warnings:3d}  {result.why[:150]}",
                flush=True,
            )
    finally:
        moto.stop()
    totals: dict[str, int] = {}
    for result in results:
        totals[result.outcome] = totals.get(result.outcome, 0) + 1
    print(
        f"\n{len(results)} projects in {time.monotonic() - started:.0f} s: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(totals.items())),
    )
    if args.compare:
        old: dict[str, int] = {}
        for item in earlier.values():
            old[item["outcome"]] = old.get(item["outcome"], 0) + 1
        print(
            "before: " + ", ".join(f"{count} {outcome}" for outcome, count in sorted(old.items()))
        )
    if args.json:
        payload = {"tool": args.tool, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
