"""Compare `tool validate` with asl-validator (npm) and statelint (PyPI) on the test corpus.

For each tool: the invalid definitions it lets through (misses), the valid ones it rejects
(false alarms), and its time per definition (in-process for each tool: Python for ours and
statelint, one Node process for asl-validator; files read beforehand; start-up and one warm-up
pass excluded; ours includes recording every node's line and column). Prints the time ratios.

Dev-only dependencies, never installed by the project:
- statelint:      pip install statelint            (into the venv)
- asl-validator:  installed on first run with `npm install --prefix $ASL_VALIDATOR_DIR
                  asl-validator@4` (default /tmp/tool-bench, outside the repository)

Usage: python bench/validate_compare.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "validate" / "corpus"
NODE_DIR = Path(os.environ.get("ASL_VALIDATOR_DIR", "/tmp/tool-bench"))

_NODE_RUNNER = r"""
const fs = require("fs");
const validator = require("asl-validator");
const files = JSON.parse(fs.readFileSync(0, "utf8"));
const repeat = Number(process.argv[2] || 1);
const texts = files.map((f) => fs.readFileSync(f, "utf8"));
const results = {};
let start = process.hrtime.bigint();
for (let r = 0; r <= repeat; r++) {
  if (r === 1) start = process.hrtime.bigint(); // pass 0 is the untimed warm-up
  texts.forEach((text, i) => {
    let verdict;
    try {
      const out = validator(JSON.parse(text));
      verdict = out.isValid ? [] : out.errors.map((e) => String(e["Error code"] || e.message));
    } catch (err) {
      verdict = ["exception: " + err.message];
    }
    results[files[i]] = verdict;
  });
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({ seconds, results }));
"""

Verdicts = dict[str, list[str]]  # file -> problems found (empty: judged valid)


def corpus() -> tuple[list[Path], list[Path]]:
    expected = json.loads((CORPUS / "expected.json").read_text())
    invalid = [CORPUS / name for name in sorted(expected)]
    valid = sorted((CORPUS / "valid").glob("*.json"))
    return invalid, valid


def run_ours(files: list[Path], repeat: int) -> tuple[float, Verdicts]:
    sys.path.insert(0, str(ROOT))
    from tooling.sourcemap import load_json
    from tooling.validate import validate_definition

    texts = {str(p): p.read_text() for p in files}

    def check(name: str, text: str) -> list[str]:
        definition, source = load_json(text, name)  # with source positions, unlike the others
        return [d.code for d in validate_definition(definition, source) if d.is_error]

    verdicts = {name: check(name, text) for name, text in texts.items()}  # warm-up, untimed
    start = time.perf_counter()
    for _ in range(repeat):
        for name, text in texts.items():
            check(name, text)
    return time.perf_counter() - start, verdicts


def run_statelint(files: list[Path], repeat: int) -> tuple[float, Verdicts] | str:
    try:
        from statelint.linter import Linter
    except ImportError:
        return "statelint is not installed (pip install statelint)"
    texts = {str(p): p.read_text() for p in files}
    verdicts = {name: list(Linter.validate(json.loads(text))) for name, text in texts.items()}
    start = time.perf_counter()
    for _ in range(repeat):
        for text in texts.values():
            Linter.validate(json.loads(text))
    return time.perf_counter() - start, verdicts


def run_asl_validator(files: list[Path], repeat: int) -> tuple[float, Verdicts] | str:
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    package = NODE_DIR / "node_modules" / "asl-validator"
    if not package.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed"
        subprocess.run(
            [npm, "install", "--no-save", "--prefix", str(NODE_DIR), "asl-validator@4"],
            check=True,
            capture_output=True,
        )
    runner = NODE_DIR / "run_asl_validator.js"
    runner.write_text(_NODE_RUNNER)
    done = subprocess.run(
        [node, str(runner), str(repeat)],
        input=json.dumps([str(p) for p in files]),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
    )
    report = json.loads(done.stdout)
    return report["seconds"], report["results"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the corpus to time")
    args = parser.parse_args()
    invalid, valid = corpus()
    files = invalid + valid
    expected = json.loads((CORPUS / "expected.json").read_text())
    tools: dict[str, Callable[[list[Path], int], tuple[float, Verdicts] | str]] = {
        "tool validate": run_ours,
        "asl-validator": run_asl_validator,
        "statelint": run_statelint,
    }
    print(f"corpus: {len(invalid)} invalid, {len(valid)} valid definitions; {args.repeat} passes\n")
    per_definition: dict[str, float] = {}
    for name, run in tools.items():
        outcome = run(files, args.repeat)
        if isinstance(outcome, str):
            print(f"{name}: skipped ({outcome})\n")
            continue
        seconds, verdicts = outcome
        per_definition[name] = seconds / (len(files) * args.repeat)
        misses = [p for p in invalid if not verdicts[str(p)]]
        alarms = [p for p in valid if verdicts[str(p)]]
        print(
            f"{name}: {len(misses)}/{len(invalid)} invalid missed, {len(alarms)}/{len(valid)} "
            f"valid rejected, {per_definition[name] * 1e6:.0f} µs per definition"
        )
        for path in misses:
            name = str(path.relative_to(CORPUS))
            print(f"  missed  {name}  ({expected[name]['code']})")
        for path in alarms:
            print(f"  alarm   {path.relative_to(CORPUS)}: {'; '.join(verdicts[str(path)])[:150]}")
        print()
    ours = per_definition.get("tool validate")
    if ours:
        for name, value in per_definition.items():
            if name != "tool validate":
                print(f"time ratio {name} / tool validate: {value / ours:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
