"""gradcalc.check in-process beside torch.autograd.gradcheck, on the same
functions (tests/data/user_functions.py): the time of each (the best of
--runs, the two alternating so a drifting machine moves both alike), and which
wrong backward passes each catches and which correct functions each fails.

    python benchmarks/usercheck.py            # or: python benchmarks/run.py --usercheck

gradcheck runs with its defaults (eps=1e-6, atol=1e-5, rtol=1e-3), as most
users call it; gradcalc.check with its own, without its symbolic method
(gradcheck has none to match). Not part of the test suite (timed)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0  # gradcalc.check's time, at most this many times gradcheck's

# name, point, what is right: "agree" for a correct function, else "wrong".
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("smooth", {"x": [1.0, 2.0, -0.5], "w": [3.0, -1.0, 0.25]}, "agree"),
    ("logsumexp", {"x": [1.0, 2.0, 3.0]}, "agree"),
    ("variance", {"x": list(np.linspace(-1, 2, 10))}, "agree"),
    (
        "cross_entropy",
        {"logits": [[1, 2, 0.5], [0, -1, 2]], "target": [[0, 1, 0], [1, 0, 0]]},
        "agree",
    ),
    ("matrix", {"x": [[1.0, 2], [3, 4]], "w": [[0.1, 0.2], [0.3, -0.4]]}, "agree"),
    ("cube", {"x": [1.0, -2.0]}, "agree"),
    ("product", {"x": [1.0, 2.0], "y": [0.5, 3.0]}, "agree"),
    ("layer", {"x": [0.1, 0.2, -0.3]}, "agree"),
    ("float32_code", {"x": [1.0, 2.0]}, "agree"),
    ("missing_factor", {"x": [1.0, 2.0]}, "wrong"),
    ("wrong_sign", {"x": [1.0, 2.0]}, "wrong"),
    ("wrong_input", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, "wrong"),
    ("slip", {"x": [0.1, 0.2, 0.3, 0.4]}, "wrong"),
]


def _functions() -> Any:
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    import user_functions

    return user_functions


def _gradcheck(fn: Any, point: dict[str, Any]) -> tuple[bool, float]:
    import torch

    names = list(point)
    inputs = tuple(torch.tensor(point[n], dtype=torch.float64, requires_grad=True) for n in names)
    start = time.perf_counter()
    try:
        passed = torch.autograd.gradcheck(lambda *a: fn(**dict(zip(names, a))), inputs)
    except Exception:  # gradcheck raises on a mismatch, and on float32 code
        passed = False
    return passed, time.perf_counter() - start


def _gradcalc(fn: Any, point: dict[str, Any]) -> tuple[str, float]:
    from gradcalc.usercode.run import check

    start = time.perf_counter()
    # Numbers only, as gradcheck computes (symbolic=False: SymPy's derivative of a
    # traced formula is gradcalc's fourth method, which gradcheck has no match for).
    result = check(fn, {n: np.asarray(v, dtype=float) for n, v in point.items()}, symbolic=False)
    return result.status, time.perf_counter() - start


def measure(runs: int) -> list[dict[str, Any]]:
    import torch

    # One thread for both: on a shared machine torch's thread pool spins for
    # tens of milliseconds on a tensor of six elements, which would time the
    # machine's load rather than either method.
    torch.set_num_threads(1)
    functions = _functions()
    rows = []
    for name, point, truth in CASES:
        fn = getattr(functions, name)
        _gradcalc(fn, point), _gradcheck(fn, point)  # warm: first calls compile
        ours, theirs = [], []
        for _ in range(runs):
            status, seconds = _gradcalc(fn, point)
            ours.append(seconds)
            passed, seconds = _gradcheck(fn, point)
            theirs.append(seconds)
        rows.append(
            {
                "name": name,
                "truth": truth,
                "gradcalc": status,
                "gradcheck": passed,
                "gradcalc_s": min(ours),
                "gradcheck_s": min(theirs),
            }
        )
    return rows


def _verdict(truth: str, right: bool) -> str:
    if truth == "agree":
        return "passes" if right else "FALSE ALARM"
    return "caught" if right else "MISSED"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| function | truth | gradcalc.check | gradcheck | gradcalc ms | gradcheck ms | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        ours = _verdict(r["truth"], (r["gradcalc"] == "agree") == (r["truth"] == "agree"))
        theirs = _verdict(r["truth"], r["gradcheck"] == (r["truth"] == "agree"))
        ratio = r["gradcalc_s"] / r["gradcheck_s"]
        lines.append(
            f"| {r['name']} | {r['truth']} | {ours} ({r['gradcalc']}) | {theirs} | "
            f"{1000 * r['gradcalc_s']:.2f} | {1000 * r['gradcheck_s']:.2f} | {ratio:.2f} |"
        )
    total = sum(r["gradcalc_s"] for r in rows) / sum(r["gradcheck_s"] for r in rows)
    caught = [
        sum(_verdict(r["truth"], ok(r)) == "caught" for r in rows if r["truth"] == "wrong")
        for ok in (lambda r: r["gradcalc"] != "agree", lambda r: not r["gradcheck"])
    ]
    alarms = [
        sum(_verdict(r["truth"], ok(r)) == "FALSE ALARM" for r in rows if r["truth"] == "agree")
        for ok in (lambda r: r["gradcalc"] == "agree", lambda r: r["gradcheck"])
    ]
    wrong = sum(r["truth"] == "wrong" for r in rows)
    lines.append("")
    lines.append(
        f"wrong backward passes caught: gradcalc.check {caught[0]}/{wrong}, "
        f"gradcheck {caught[1]}/{wrong}; false alarms on correct functions: "
        f"gradcalc.check {alarms[0]}, gradcheck {alarms[1]}"
    )
    right = [r for r in rows if r["truth"] == "agree" and r["gradcheck"]]
    same = sum(r["gradcalc_s"] for r in right) / sum(r["gradcheck_s"] for r in right)
    lines.append(
        f"time, the {len(right)} correct functions gradcheck passes: gradcalc.check / "
        f"gradcheck = {same:.2f} (target ≤ {TARGET_RATIO:g}); all {len(rows)} functions: "
        f"{total:.2f} (where it disagrees, gradcalc.check does more: each custom Function alone)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args(argv)
    print(table(measure(options.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
