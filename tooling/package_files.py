"""Which files of a service folder go into its package: patterns, exclusions, links, secrets.

1. Every file under the service folder, walked in sorted order.
2. The patterns apply in order, Serverless style: `pattern` adds the files it matches, `!pattern`
   removes them, the last matching pattern wins. Globs: `*` and `?` stay within one path
   segment, `**` spans segments, `[ab]` and `{a,b}` work; a pattern that matches a folder also
   matches everything inside it.
3. Never packed, whatever the patterns say: `.git/`, `.venv/`, `venv/`, `.tool/`, `tests/`,
   `__pycache__/`, `*.pyc`, `.serverless/`, the caches `.pytest_cache/`,
   `.hypothesis/`, `.mypy_cache/`, `.ruff_cache/` (at any depth), the toolkit's own top-level
   `tooling/` and `tooling.egg-info/` folders, and the output folder itself.
4. Files that hold secrets (`SECRET_FILES`, `SECRET_DIRS`, `SECRET_PATHS`: `.env*`, private keys,
   `.netrc`, `.npmrc`, `.aws/`, `.ssh/`, ...) are left out unless a pattern names them: one that
   is itself a secret's name (`.env.production`, `certs/*.pem`, `.aws/**`), not a catch-all such
   as `**` or `*`. A file packed that way, and any other packed file whose name looks like a
   secret (`secrets.json`, `credentials.txt`, ...; Python files, and installed packages under
   `node_modules/`, whose names are their authors', are not flagged), is reported as a warning.
5. Symbolic links: a link to a file inside the service folder is packed with the content of its
   target, unless the target is one of 3. or 4.; a link to anything outside the service folder
   stops the package with the link's path and the fix (exclude it with `!path`, or copy the file
   in); links to folders are not followed (left out with a warning when a pattern asks for them).

Serverless itself follows links wherever they point and packs `.env` files; the toolkit does
neither (README, "Security").
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tooling.errors import ConfigError

_NEVER_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        ".tool",
        "tests",
        "__pycache__",
        ".serverless",
        # Caches of tools run in the folder (`make test`): they change on every run and would
        # make the next deploy upload the code again.
        ".pytest_cache",
        ".hypothesis",
        ".mypy_cache",
        ".ruff_cache",
    }
)
_NEVER_FILES = re.compile(r"^.*\.pyc$")
_TOP_LEVEL_NEVER = frozenset({"tooling", "tooling.egg-info"})

# Secrets: left out unless a pattern names them (see the module docstring). Names compare in
# lower case.
SECRET_FILES = (
    ".env*",  # .env, .env.local, .envrc, ...
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".boto",
    ".s3cfg",
    ".dockercfg",
)
SECRET_DIRS = frozenset({".aws", ".ssh", ".gnupg"})
SECRET_PATHS = (".docker/config.json",)  # at any depth
# Packed, but reported: names that often hold secrets.
LOOKS_SECRET = ("*secret*", "*credential*", "*password*", "*passwd*", "*api_key*", "*apikey*")
_CODE_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class FileWarning:
    file: str  # relative to the service folder
    message: str

    def render(self) -> str:
        return f"{self.file}: warning: {self.message}"


@dataclass
class Selection:
    """The files to pack (relative POSIX paths, sorted) and what to tell the user about them."""

    files: list[str] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)

    def warn(self, file: str, message: str) -> None:
        self.warnings.append(FileWarning(file, message))


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Serverless/globby-style glob into a regex over POSIX relative paths."""
    pattern = _bare(pattern)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            choices = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(_glob_regex(c).pattern[1:-1] for c in choices) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def _bare(pattern: str) -> str:
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.lstrip("/").rstrip("/")


def glob_match(pattern: str, path: str) -> bool:
    """Does `pattern` match `path` or one of its parent folders (POSIX, relative)?"""
    regex = _glob_regex(pattern)
    parts = path.split("/")
    return any(regex.match("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def never_packed(path: str) -> bool:
    """The hard exclusions that no pattern can undo (3. in the module docstring)."""
    parts = path.split("/")
    if parts[0] in _TOP_LEVEL_NEVER:
        return True
    if any(part in _NEVER_DIRS for part in parts[:-1]):
        return True
    return bool(_NEVER_FILES.match(parts[-1]))


def is_secret(path: str) -> bool:
    """Whether a relative path is one of the secret files left out by default (4.)."""
    parts = path.lower().split("/")
    if any(part in SECRET_DIRS for part in parts[:-1]):
        return True
    if any(fnmatch.fnmatchcase(parts[-1], glob) for glob in SECRET_FILES):
        return True
    return any(path.lower() == p or path.lower().endswith("/" + p) for p in SECRET_PATHS)


def names_secrets(pattern: str) -> bool:
    """Whether a pattern asks for secrets by name: read as a path, it is a secret's path or
    names a secret folder (`.env*`, `certs/*.pem`, `.aws`, `.ssh/**`), unlike `**` or `*`."""
    bare = _bare(pattern)
    return is_secret(bare) or bare.lower().split("/")[-1] in SECRET_DIRS


def looks_secret(path: str) -> bool:
    parts = path.lower().split("/")
    name = parts[-1]
    if name.endswith(_CODE_SUFFIXES) or "node_modules" in parts[:-1]:
        return False
    return any(fnmatch.fnmatchcase(name, glob) for glob in LOOKS_SECRET)


def _chosen(rel: str, rules: list[tuple[str, bool, bool]]) -> tuple[bool, bool]:
    """(included, named as a secret) after applying every rule in order."""
    secret = is_secret(rel)
    included = not secret
    named = False
    for glob, include, explicit in rules:
        if not glob_match(glob, rel):
            continue
        if not include:
            included = named = False
        elif explicit or not secret:
            included, named = True, secret
    return included, named


def _excluded_below(folder: str, rules: list[tuple[str, bool, bool]]) -> bool:
    """Whether every file under `folder` is left out by the patterns, so that the walk need not
    enter it (a `node_modules/` or an example service under a `!**`): a `!pattern` matches the
    folder and no later pattern can match anything inside it."""
    last = max(
        (
            i
            for i, (glob, include, _) in enumerate(rules)
            if not include and glob_match(glob, folder)
        ),
        default=None,
    )
    if last is None:
        return False
    return not any(include and _may_reach(glob, folder) for glob, include, _ in rules[last + 1 :])


def _may_reach(pattern: str, folder: str) -> bool:
    """Whether `pattern` could match a path inside `folder` (or the folder itself): its leading
    segments agree with the folder's, until a `**` or the end of either. (A `{a,b}` choice may
    hold a `/`: such a pattern may reach anywhere.)"""
    if "{" in pattern:
        return True
    for wanted, actual in zip(_bare(pattern).split("/"), folder.split("/"), strict=False):
        if "**" in wanted:
            return True
        if any(c in wanted for c in "*?[{"):
            if not _glob_regex(wanted).match(actual):
                return False
        elif wanted != actual:
            return False
    return True


def select_package_files(
    directory: Path, patterns: Iterable[str], skip: Iterable[Path] = (), base: Path | None = None
) -> Selection:
    """The files to pack and the warnings about them; ConfigError for a link out of `base`
    (the service folder; `directory` by default, a layer's folder inside it otherwise)."""
    base = (base or directory).resolve()
    skipped = [p.resolve() for p in skip]
    rules = [
        (p[1:], False, False) if p.startswith("!") else (p, True, names_secrets(p))
        for p in patterns
    ]
    selection = Selection()
    for root, dirs, files in os.walk(directory):
        root_path = Path(root)
        rel_root = root_path.relative_to(directory).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        kept = []
        for name in sorted(dirs):
            full = root_path / name
            if name in _NEVER_DIRS or (not prefix and name in _TOP_LEVEL_NEVER):
                continue  # pruned early: no point walking .git or .venv
            if full.resolve() in skipped or _excluded_below(prefix + name, rules):
                continue
            if full.is_symlink():
                if _chosen(prefix + name, rules)[0]:
                    selection.warn(
                        prefix + name,
                        "left out: a link to a folder (links to folders are not followed; copy "
                        "the folder in to pack it)",
                    )
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            rel = prefix + name
            full = root_path / name
            if never_packed(rel) or full.resolve() in skipped:
                continue
            included, named = _chosen(rel, rules)
            if not included:
                continue
            if full.is_symlink() and not _link_packable(full, rel, base, selection):
                continue
            if not full.is_file():
                continue
            if named:
                selection.warn(rel, "packed, although it may hold secrets: a pattern names it")
            elif looks_secret(rel):
                selection.warn(
                    rel,
                    "packed, and its name looks like it holds secrets: leave it out with "
                    f"`!{rel}` in package.patterns if it does",
                )
            selection.files.append(rel)
    selection.files.sort()
    return selection


def _link_packable(link: Path, rel: str, base: Path, selection: Selection) -> bool:
    """A link selected by the patterns: refused when it leads out of the service folder, left
    out (with a warning) when its target is a file that is never or not by default packed."""
    target = link.resolve()
    if base not in target.parents:
        raise ConfigError(
            f"a symbolic link to {target}, outside the service folder: a package holds only the "
            "service's own files",
            file=rel,
            hint=f"copy the file into the service folder, or leave the link out with `!{rel}` "
            "in package.patterns",
        )
    if not target.exists():
        selection.warn(rel, "left out: a broken symbolic link")
        return False
    target_rel = target.relative_to(base).as_posix()
    if never_packed(target_rel) or is_secret(target_rel):
        selection.warn(rel, f"left out: a link to {target_rel}, which is not packed by default")
        return False
    return True


def select_files(directory: Path, patterns: Iterable[str], skip: Iterable[Path] = ()) -> list[str]:
    """Relative POSIX paths of the files to pack, sorted."""
    return select_package_files(directory, patterns, skip).files
