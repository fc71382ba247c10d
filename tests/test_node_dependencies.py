"""node_modules in the package, as Serverless v3 packs it: production dependencies in, packages
that only devDependencies need out (with their .bin links), whatever the patterns say;
`package.excludeDevDependencies: false` keeps everything."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from tooling.config.service import load_service
from tooling.errors import ConfigError
from tooling.node_dependencies import development_only
from tooling.package import build_package

SERVERLESS = """\
service: shop
provider:
  name: aws
  runtime: nodejs20.x
functions:
  price:
    handler: src/price.handler
"""


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def write(folder: Path, files: dict[str, object]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))


def installed(name: str, dependencies: dict[str, str] | None = None, **extra: object) -> str:
    return json.dumps(
        {"name": name, "version": "1.0.0", "dependencies": dependencies or {}, **extra}
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A service whose package.json needs `sdk` (which needs `tslib` and, nested, its own
    `util` 2), and whose devDependencies are `jest` (which needs `util` 1 and `tslib`)."""
    folder = tmp_path / "shop"
    write(
        folder,
        {
            "serverless.yml": SERVERLESS,
            "src/price.js": "exports.handler = async () => ({});\n",
            "package.json": {
                "name": "shop",
                "dependencies": {"@aws-sdk/client-dynamodb": "^3"},
                "devDependencies": {"jest": "^29"},
            },
            "node_modules/@aws-sdk/client-dynamodb/package.json": installed(
                "@aws-sdk/client-dynamodb", {"tslib": "^2", "util": "^2"}
            ),
            "node_modules/@aws-sdk/client-dynamodb/index.js": "module.exports = {};\n",
            "node_modules/@aws-sdk/client-dynamodb/node_modules/util/package.json": installed(
                "util"
            ),
            "node_modules/@aws-sdk/client-dynamodb/node_modules/util/index.js": "",
            "node_modules/tslib/package.json": installed("tslib"),
            "node_modules/tslib/tslib.js": "",
            "node_modules/jest/package.json": installed(
                "jest", {"util": "^1", "tslib": "^2"}, bin={"jest": "bin/jest.js"}
            ),
            "node_modules/jest/bin/jest.js": "#!/usr/bin/env node\n",
            "node_modules/util/package.json": installed("util"),
            "node_modules/util/index.js": "",
            "node_modules/left-pad/package.json": installed("left-pad"),  # extraneous
            "node_modules/left-pad/index.js": "",
            "node_modules/.package-lock.json": "{}",
        },
    )
    (folder / "node_modules" / ".bin").mkdir()
    os.symlink("../jest/bin/jest.js", folder / "node_modules" / ".bin" / "jest")
    return folder


def test_production_dependencies_are_packed_and_development_ones_are_not(
    shop: Path, tmp_path: Path
) -> None:
    package = build_package(load_service(shop, env={}), tmp_path / "out")
    names = zip_names(package.path)
    assert [n for n in names if n.startswith("node_modules/")] == [
        "node_modules/.package-lock.json",
        "node_modules/@aws-sdk/client-dynamodb/index.js",
        "node_modules/@aws-sdk/client-dynamodb/node_modules/util/index.js",
        "node_modules/@aws-sdk/client-dynamodb/node_modules/util/package.json",
        "node_modules/@aws-sdk/client-dynamodb/package.json",
        "node_modules/left-pad/index.js",  # in neither tree: kept, as Serverless keeps it
        "node_modules/left-pad/package.json",
        "node_modules/tslib/package.json",  # jest needs it too, and so does the SDK
        "node_modules/tslib/tslib.js",
    ]
    assert {"package.json", "src/price.js"} <= set(names)
    assert package.warnings == ()  # "credential"-like names of installed packages: not flagged


def test_no_pattern_brings_a_development_dependency_back(shop: Path, tmp_path: Path) -> None:
    (shop / "serverless.yml").write_text(
        SERVERLESS + "package:\n  patterns: ['node_modules/jest/**', 'node_modules/**']\n"
    )
    names = zip_names(build_package(load_service(shop, env={}), tmp_path / "out").path)
    assert not [n for n in names if "jest" in n or n == "node_modules/util/index.js"]


def test_exclude_dev_dependencies_false_keeps_them(shop: Path, tmp_path: Path) -> None:
    (shop / "serverless.yml").write_text(SERVERLESS + "package:\n  excludeDevDependencies: false\n")
    names = zip_names(build_package(load_service(shop, env={}), tmp_path / "out").path)
    assert {"node_modules/jest/bin/jest.js", "node_modules/.bin/jest"} <= set(names)
    assert "node_modules/util/index.js" in names


def test_exclude_dev_dependencies_must_be_a_boolean(shop: Path) -> None:
    (shop / "serverless.yml").write_text(
        SERVERLESS + "package:\n  excludeDevDependencies: no way\n"
    )
    with pytest.raises(ConfigError, match="excludeDevDependencies must be true or false"):
        load_service(shop, env={})


def test_the_difference_is_computed_per_package_json(shop: Path) -> None:
    # A second package.json (a subfolder with its own node_modules), and one that is broken.
    write(
        shop,
        {
            "tools/package.json": {"devDependencies": {"lint": "1"}, "dependencies": {"x": "1"}},
            "tools/node_modules/lint/package.json": installed("lint", bin="cli.js"),
            "tools/node_modules/x/package.json": installed("x", {"lint": "1"}),
            "tools/node_modules/y/package.json": installed("y"),
            "broken/package.json": "{not json",
        },
    )
    found = development_only(shop)
    assert found.paths == [
        "node_modules/jest",
        "node_modules/.bin/jest",
        "node_modules/util",
    ]  # tools/: `lint` is also a production dependency of `x`
    assert found.warnings == [
        (
            "broken/package.json",
            "not a readable package.json: its development dependencies are not left out of the "
            "package (Serverless' `npm ls` skips it too)",
        )
    ]


def test_names_that_would_leave_node_modules_are_ignored(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": {"devDependencies": {"../../etc": "1", "@a/../../b": "1", "ok": "1"}},
            "node_modules/ok/package.json": installed("ok"),
        },
    )
    assert development_only(tmp_path).paths == ["node_modules/ok"]


def test_a_folder_left_out_by_a_pattern_is_not_walked(tmp_path: Path) -> None:
    from tooling.package_files import _excluded_below

    rules = [("**", False, False), ("handler.py", True, False), ("src/**/*.js", True, False)]
    assert _excluded_below("examples", rules)
    assert not _excluded_below("src", rules)  # src/**/*.js may match inside
    assert not _excluded_below("lib", [("lib/x", False, False)])  # only lib/x is left out
    assert not _excluded_below("lib", [("lib", False, False), ("{lib,src}/a.py", True, False)])
    assert _excluded_below("node_modules/jest", [("node_modules/jest", False, False)])
