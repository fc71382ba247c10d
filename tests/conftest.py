"""Fixtures shared by every test folder: a copy of the example service, and a moto server on
loopback with an environment in which nothing can reach a real account."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling import session

ROOT = Path(__file__).resolve().parents[1]
SERVICE_FILES = ("serverless.yml", "handler.py", "statemachine.asl.json", "in.json")


# One read-only call per service the toolkit calls (tooling/aws/client.py's callers).
WARM_UP_CALLS = (
    ("apigateway", "get_rest_apis"),
    ("cloudformation", "list_stacks"),
    ("cloudwatch", "describe_alarms"),
    ("dynamodb", "list_tables"),
    ("events", "list_rules"),
    ("iam", "list_roles"),
    ("lambda", "list_functions"),
    ("logs", "describe_log_groups"),
    ("s3", "list_buckets"),
    ("scheduler", "list_schedules"),
    ("sns", "list_topics"),
    ("sqs", "list_queues"),
    ("stepfunctions", "list_state_machines"),
    ("sts", "get_caller_identity"),
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the moto server is end-to-end (a deploy or run on the AWS target):
    marked slow like the files that say `pytestmark = pytest.mark.slow`."""
    for item in items:
        if "moto_endpoint" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A folder's resident runtime (tooling/localrt/resident.py) outlives the command that started it;
# in tests it should not outlive the test: a short idle time, and the fixture below.
os.environ.setdefault("TOOL_RESIDENT_IDLE_SECONDS", "60")
# `tool deploy` starts one ahead; most tests deploy without running anything, so not there
# (tests/localrt/test_resident.py turns it on where it is the subject).
os.environ.setdefault("TOOL_RESIDENT_AHEAD", "0")


@pytest.fixture(autouse=True)
def _no_resident_runtime_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Stop the resident runtimes started in the test's folder (their spares go with them)."""
    if "tmp_path" not in request.fixturenames:
        yield
        return
    tmp_path: Path = request.getfixturevalue("tmp_path")
    yield
    from tooling.localrt.resident import ResidentRuntime

    for lock in tmp_path.rglob(".tool/runtime.lock"):
        ResidentRuntime(lock.parent).stop()


@pytest.fixture(scope="session", autouse=True)
def _no_local_aws_services_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests that start a folder's local AWS services stop them; this stops any left behind
    (a failed test), so no server outlives the run."""
    yield
    from tooling.localaws.manager import LocalAwsServices

    for lock in tmp_path_factory.getbasetemp().rglob(".tool/aws/server.lock"):
        LocalAwsServices(lock.parent.parent).stop()


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """One botocore data loader for the whole run (per xdist worker).

    botocore reads its JSON service models again for each boto3 session, and each test of the
    AWS target makes fresh sessions (fresh credentials and configuration, as a command does):
    that reading was a quarter of those tests' CPU time. The models are static data, and one
    loader serving many clients is what a single botocore session does anyway."""
    import botocore.loaders
    import botocore.session

    class UniquePaths(list[str]):
        """boto3 appends its own data folder to the loader of each session it opens."""

        def append(self, path: str) -> None:
            if path not in self:
                super().append(path)

    loaders: dict[str | None, botocore.loaders.Loader] = {}

    def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loader = botocore.loaders.create_loader(search_path_string)
            # the list behind the read-only search_paths property (not in botocore-stubs)
            loader._search_paths = UniquePaths(loader.search_paths)  # type: ignore[attr-defined]
            loaders[search_path_string] = loader
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared_loader)
        yield


def _warm_up(endpoint: str) -> None:
    """Route one request of each service before any test runs.

    moto builds a service's URL routes on its first request, with werkzeug compiling them
    through `ast.parse`; on CPython 3.11 two threads building AST objects at once can fail with
    "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905), which is
    what concurrent first requests (deploy's parallel look-ups) did now and then."""
    import boto3

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    make_client: Callable[..., Any] = session.client  # typed per literal service name
    for service, operation in WARM_UP_CALLS:
        getattr(make_client(service, endpoint_url=endpoint), operation)()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer  # only the AWS-target tests need moto

    from tooling.localaws import moto_fixes

    moto_fixes.apply()  # what moto's CloudFormation does differently from AWS

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        _warm_up(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh moto state, dummy credentials, and no ~/.aws file or profile read."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    empty = tmp_path / "aws-empty-config"
    empty.write_text("")
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "TOOL_TARGET",
        "TOOL_AWS_PROFILE",
        "SF_EXECUTION_HISTORY_TYPE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(session, "_aws_clients", {})
    return moto_endpoint


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example service in a fresh folder, made the working directory."""
    folder = tmp_path / "service"
    folder.mkdir()
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, folder / name)
    monkeypatch.chdir(folder)
    return folder
