"""Packages hold only the service: no link out of its folder, no secret files unless a pattern
names them, and a warning for what looks like a secret."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.errors import ConfigError
from tooling.package import build_package
from tooling.package_files import is_secret, looks_secret, names_secrets

HANDLER = "def lambda_handler(event, context):\n    return event\n"
YML = """\
service: leaky
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handler.lambda_handler
"""

# What the issue found in a zip built with the default patterns (besides the link).
ISSUE_SECRETS = (".envrc", "id_ed25519", ".netrc")
MORE_SECRETS = (
    ".env",
    ".env.production",
    "config/.env.local",
    "id_rsa",
    "id_rsa.pub",
    "keys/id_ecdsa",
    "id_dsa",
    "certs/server.pem",
    "certs/server.key",
    "certs/bundle.p12",
    "certs/bundle.pfx",
    "app.jks",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".aws/credentials",
    ".aws/config",
    ".ssh/known_hosts",
    ".gnupg/pubring.kbx",
    ".docker/config.json",
    "sub/.aws/credentials",
)


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(zf.namelist())


def make(folder: Path, files: dict[str, str], yml: str = YML) -> Path:
    for name, content in {"serverless.yml": yml, "handler.py": HANDLER, **files}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


def test_the_issue_folder_packs_only_the_service(tmp_path: Path) -> None:
    """The issue's folder: a link to /etc/passwd, .envrc, id_ed25519, .netrc, secrets.json."""
    outside = tmp_path / "outside.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = make(
        tmp_path / "svc",
        {name: "SECRET" for name in ISSUE_SECRETS} | {"secrets.json": '{"k": "SECRET"}'},
    )
    (folder / "linked_passwd.txt").symlink_to(outside)
    service = load_service(folder, env={})
    # The link leads out of the folder: refused with its path and the fix (see the docs).
    with pytest.raises(ConfigError) as caught:
        build_package(service, folder / ".tool" / "build")
    assert caught.value.file == "linked_passwd.txt"
    assert "outside the service folder" in caught.value.message
    assert "!linked_passwd.txt" in (caught.value.hint or "")
    # Left out as the hint says: the secrets stay out, secrets.json is packed with a warning.
    (folder / "serverless.yml").write_text(YML + "package:\n  patterns: ['!linked_passwd.txt']\n")
    package = build_package(load_service(folder, env={}), folder / ".tool" / "build")
    assert zip_names(package.path) == ["handler.py", "secrets.json"]
    assert [(w.file, "looks like it holds secrets" in w.message) for w in package.warnings] == [
        ("secrets.json", True)
    ]


def test_secret_files_are_left_out_by_default_even_with_a_catch_all(tmp_path: Path) -> None:
    files = {name: "SECRET" for name in (*ISSUE_SECRETS, *MORE_SECRETS)}
    for patterns in ("", "package:\n  patterns: ['**']\n", "package:\n  include: ['**/*']\n"):
        folder = make(tmp_path / f"svc{len(patterns)}", files, YML + patterns)
        package = build_package(load_service(folder, env={}), tmp_path / f"out{len(patterns)}")
        assert package.files == ("handler.py",) or package.files == (
            "handler.py",
            "serverless.yml",
        ), package.files
        for name in (*ISSUE_SECRETS, *MORE_SECRETS):
            assert is_secret(name), name


def test_a_pattern_that_names_a_secret_brings_it_back_with_a_warning(tmp_path: Path) -> None:
    files = {
        ".env.production": "A=1",
        ".env": "B=2",
        "certs/a.pem": "x",
        "certs/b.pem": "y",
        ".aws/config": "z",
        "keys/id_rsa": "k",
    }
    yml = YML + (
        "package:\n  patterns:\n"
        "    - '**'\n"  # a catch-all brings back nothing secret
        "    - .env.production\n"
        "    - certs/*.pem\n"
        "    - .aws/**\n"
        "    - '!certs/b.pem'\n"  # and `!` still removes
    )
    folder = make(tmp_path / "svc", files, yml)
    package = build_package(load_service(folder, env={}), tmp_path / "out")
    assert package.files == (
        ".aws/config",
        ".env.production",
        "certs/a.pem",
        "handler.py",
        "serverless.yml",
    )
    warned = {w.file for w in package.warnings if "a pattern names it" in w.message}
    assert warned == {".aws/config", ".env.production", "certs/a.pem"}


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        (".env", True),
        (".env*", True),
        ("**/.env.*", True),
        ("certs/*.pem", True),
        ("./id_rsa", True),
        (".aws", True),
        (".ssh/**", True),
        ("**", False),
        ("*", False),
        ("**/*", False),
        ("*.*", False),
        ("src/**", False),
        ("!.env", True),  # read as a path; `!` patterns only ever remove files
    ],
)
def test_which_patterns_name_secrets(pattern: str, names: bool) -> None:
    assert names_secrets(pattern.removeprefix("!")) is names


@pytest.mark.parametrize(
    ("path", "looks"),
    [
        ("secrets.json", True),
        ("config/Credentials.txt", True),
        ("db_password.txt", True),
        ("api_key.txt", True),
        ("secrets_client.py", False),  # code is not flagged
        ("README.md", False),
    ],
)
def test_names_that_look_like_secrets(path: str, looks: bool) -> None:
    assert looks_secret(path) is looks


def test_links_inside_the_folder_are_packed_unless_they_lead_to_a_secret(tmp_path: Path) -> None:
    folder = make(tmp_path / "svc", {"shared/util.py": "X = 1\n", ".env": "SECRET=1\n"})
    (folder / "util_link.py").symlink_to(folder / "shared" / "util.py")
    (folder / "settings.cfg").symlink_to(".env")  # a harmless name for a secret
    (folder / "dangling.txt").symlink_to(folder / "missing")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "x.py").write_text("leak")
    (folder / "lib").symlink_to(tmp_path / "lib")  # a folder link: not followed
    package = build_package(load_service(folder, env={}), tmp_path / "out")
    assert package.files == ("handler.py", "shared/util.py", "util_link.py")
    with zipfile.ZipFile(package.path) as zf:
        assert zf.read("util_link.py") == b"X = 1\n"
    left_out = {w.file: w.message for w in package.warnings}
    assert set(left_out) == {"settings.cfg", "dangling.txt", "lib"}
    assert ".env" in left_out["settings.cfg"]


def test_a_link_out_of_the_folder_that_the_patterns_exclude_is_fine(tmp_path: Path) -> None:
    folder = make(tmp_path / "svc", {}, YML + "package:\n  patterns: ['!**', 'handler.py']\n")
    (folder / "passwd").symlink_to("/etc/passwd")
    assert build_package(load_service(folder, env={}), tmp_path / "out").files == ("handler.py",)


def test_deploy_refuses_a_link_out_of_the_folder_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make(tmp_path / "svc", {})
    (folder / "linked_passwd.txt").symlink_to("/etc/passwd")
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1].startswith("error: linked_passwd.txt: a symbolic link to /etc/")
    assert not (folder / ".tool" / "deployed").exists()


def test_package_list_shows_exactly_what_goes_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make(tmp_path / "svc", {"lib/a.py": "", ".envrc": "export K=1", "secrets.json": "{}"})
    monkeypatch.chdir(folder)
    assert main(["package", "--list"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["handler.py", "lib/a.py", "secrets.json"]
    assert "secrets.json: warning:" in err
    assert main(["package", "--json"]) == 0
    [answer] = json.loads(capsys.readouterr().out)["packages"]
    assert answer["files"] == ["handler.py", "lib/a.py", "secrets.json"]
    assert answer["path"] == str(folder / ".tool" / "build" / "leaky.zip")
    assert answer["functions"] == ["hello"] and answer["codeSha256"]
    assert [w["file"] for w in answer["warnings"]] == ["secrets.json"]
    assert zip_names(Path(answer["path"])) == answer["files"]
    assert os.path.getsize(answer["path"]) == answer["size"]


def test_package_lists_each_package_of_a_service_packaged_individually(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    yml = YML.replace(
        "    handler: handler.lambda_handler\n",
        (
            "    handler: handler.lambda_handler\n"
            "  other:\n    handler: other.lambda_handler\n"
            "    package:\n      individually: true\n      patterns: ['!handler.py']\n"
        ),
    )
    folder = make(tmp_path / "svc", {"other.py": HANDLER}, yml)
    monkeypatch.chdir(folder)
    assert main(["package", "--list"]) == 0
    build = folder / ".tool" / "build"
    lines = capsys.readouterr().out.splitlines()
    assert f"{build / 'other.zip'}: other.py" in lines
    assert f"{build / 'other.zip'}: handler.py" not in lines
    assert f"{build / 'leaky.zip'}: handler.py" in lines
