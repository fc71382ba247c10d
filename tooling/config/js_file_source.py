"""`${file(x.js):address}`: a value a JavaScript (or TypeScript) module makes, as Serverless
gets it (v3 lib/configuration/variables/sources/file.js; v4 resolvers/providers/file/file.js,
which adds `.mjs` and `.ts`).

The module is loaded with Node.js. The address is walked key by key from the module's exports
(its named exports first, then its default export); the first function met on the way is
called with `{options, resolveVariable, resolveConfigurationProperty}` and its (awaited) result
walked on; promises are awaited. No address gives the default export (called when a function).

`resolveVariable('self:custom.x')` and `resolveConfigurationProperty(['custom', 'x'])` are
answered by the toolkit's own resolver over a line protocol: the program writes requests to
stdout after a per-run marker, the toolkit answers on stdin. Anything else the program prints
goes to stderr, as it would show in Serverless' terminal.

It runs as serverless.ts does (tooling.config.program_config): in the service folder, with the
caller's environment less AWS credentials, bounded in time, output and nesting.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.config.program_config import (
    MAX_OUTPUT,
    PROGRAM_SECONDS,
    bundle_typescript,
    check_depth,
    find_node,
    first_message,
    program_env,
    stack_location,
)

JS_FILE_EXTENSIONS = (".js", ".cjs", ".mjs", ".ts", ".mts", ".cts")
MAX_REQUESTS = 1000  # resolveVariable / resolveConfigurationProperty calls by one module

_LOADER = r"""
const Module = require('module');
const path = require('path');
const readline = require('readline');
const { pathToFileURL } = require('url');
const [mode, file, marker] = process.argv.slice(1);
const send = (message) =>
  process.stdout.write('\n' + marker + ' ' + JSON.stringify(message) + '\n');
const waiting = new Map();
let first = null;
let asked = 0;
const lines = readline.createInterface({ input: process.stdin });
const started = new Promise((resolve) => { first = resolve; });
lines.on('line', (line) => {
  const message = JSON.parse(line);
  if (first) { const go = first; first = null; go(message); return; }
  const answer = waiting.get(message.id);
  waiting.delete(message.id);
  if ('error' in message) answer.reject(new Error(message.error));
  else answer.resolve(message.value);
});
const ask = (kind, what) => new Promise((resolve, reject) => {
  asked += 1;
  waiting.set(asked, { resolve, reject });
  send({ ask: kind, id: asked, what });
});
const isFunction = (value) => typeof value === 'function';
async function load(start) {
  if (mode === 'bundle') {
    const loaded = new Module(file, null);
    loaded.filename = file;
    loaded.paths = Module._nodeModulePaths(path.dirname(file));
    loaded._compile(start.bundle, file);
    const exports = loaded.exports;
    return exports && exports.__esModule ? exports : { ...exports, default: exports };
  }
  return import(pathToFileURL(file).href);
}
async function run() {
  const start = await started;
  const context = {
    options: start.options,
    resolveVariable: (text) => ask('variable', String(text)),
    resolveConfigurationProperty: (keys) => ask('property', [].concat(keys).map(String)),
  };
  const module = await load(start);
  let called = false;
  const settle = async (value) => {
    if (!called && isFunction(value)) { called = true; return value(context); }
    return value;
  };
  const keys = start.address;
  let value;
  if (keys.length === 0) {
    value = await settle(module.default !== undefined ? module.default : module);
  } else {
    const head = keys[0];
    const named = head !== 'default' && module[head] !== undefined && module[head] !== null;
    value = named ? module[head] : (module.default == null ? undefined : module.default[head]);
    value = await settle(await value);
    for (const key of keys.slice(1)) {
      if (value === undefined || value === null) break;
      value = await settle(await value[key]);
    }
  }
  send(value === undefined || value === null ? { missing: true } : { value });
}
run().then(() => process.exit(0), (error) => {
  process.stderr.write(String((error && error.stack) || error));
  process.exit(4);
});
"""


class JsFileError(Exception):
    """The module could not give its value: `message`, and where in the module when known."""

    def __init__(self, message: str, where: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.where = dict(where or {})


@dataclass(frozen=True)
class JsFileAnswerer:
    """What the module may ask the toolkit's resolver: a variable (`self:custom.x`, without
    `${}`) or a configuration property (a list of keys)."""

    variable: Callable[[str], Any]
    property: Callable[[list[str]], Any]


def is_js_file(path: Path) -> bool:
    return path.suffix.lower() in JS_FILE_EXTENSIONS


def js_file_value(
    directory: Path,
    path: Path,
    address: list[str],
    *,
    options: Mapping[str, Any],
    env: Mapping[str, str],
    answer: JsFileAnswerer,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[bool, Any]:
    """(found, value) of `address` in the module at `path`; JsFileError when it fails."""
    label = _label(directory, path)
    node = find_node(env)
    if node is None:
        raise JsFileError(
            f"{label} is JavaScript, which Serverless runs with Node.js, and there is no "
            "`node` on PATH"
        )
    clean_env = program_env(env)
    bundle = None
    if path.suffix.lower() in (".ts", ".mts", ".cts"):
        bundle = bundle_typescript(directory, label, clean_env).decode("utf-8")
    marker = "TOOLJS" + secrets.token_hex(8)
    start = {"address": address, "options": dict(options), "bundle": bundle}
    process = subprocess.Popen(
        [node, "--enable-source-maps", "-e", _LOADER, "bundle" if bundle else "file",
         str(path), marker],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=directory, env=clean_env,
    )  # fmt: skip
    try:
        return _converse(process, start, marker, label, directory, answer, clock)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _converse(
    process: subprocess.Popen[bytes],
    start: Mapping[str, Any],
    marker: str,
    label: str,
    directory: Path,
    answer: JsFileAnswerer,
    clock: Callable[[], float],
) -> tuple[bool, Any]:
    assert process.stdin and process.stdout and process.stderr
    _write(process, start)
    deadline = clock() + PROGRAM_SECONDS
    prefix = (marker + " ").encode()
    pending = b""
    errors = b""
    received = 0
    requests = 0
    refused: list[Exception] = []  # the resolver's own errors, raised as they are if fatal
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "out")
    selector.register(process.stderr, selectors.EVENT_READ, "err")
    open_streams = 2
    while open_streams:
        left = deadline - clock()
        if left <= 0:
            raise JsFileError(f"{label} did not give its value in {PROGRAM_SECONDS:.0f} s")
        for key, _ in selector.select(timeout=left):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            received += len(chunk)
            if received > MAX_OUTPUT:
                raise JsFileError(f"{label} printed over {MAX_OUTPUT} bytes")
            if key.data == "err":
                errors += chunk
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line.startswith(prefix):
                    if line.strip():
                        sys.stderr.write(line.decode("utf-8", errors="replace") + "\n")
                    continue
                message = json.loads(line[len(prefix) :])
                if "ask" not in message:
                    if "missing" in message:
                        return False, None
                    check_depth(message["value"], label)
                    return True, message["value"]
                requests += 1
                if requests > MAX_REQUESTS:
                    raise JsFileError(f"{label} asked for over {MAX_REQUESTS} values")
                _write(process, _reply(message, answer, refused))
    process.wait()
    if refused:
        raise refused[0]
    text = errors.decode("utf-8", errors="replace")
    raise JsFileError(
        first_message(text)[:500] or "it exited with an error", stack_location(text, directory)
    )


def _reply(
    message: Mapping[str, Any], answer: JsFileAnswerer, refused: list[Exception]
) -> dict[str, Any]:
    try:
        if message["ask"] == "variable":
            value = answer.variable(str(message["what"]))
        else:
            value = answer.property([str(key) for key in message["what"]])
    except Exception as exc:  # goes back to the program, which may catch it (as in Serverless)
        refused.append(exc)
        return {"id": message["id"], "error": str(exc)}
    return {"id": message["id"], "value": value}


def _write(process: subprocess.Popen[bytes], message: Mapping[str, Any]) -> None:
    assert process.stdin
    try:
        process.stdin.write(json.dumps(message).encode() + b"\n")
        process.stdin.flush()
    except BrokenPipeError:
        pass  # the program ended; its exit is read from stdout/stderr


def _label(directory: Path, path: Path) -> str:
    try:
        return path.relative_to(directory.resolve()).as_posix()
    except ValueError:
        return path.name
