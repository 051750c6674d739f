"""Sweep: generated points where float64, not f, may fail, each verdict
checked against mpmath at 50 digits on the exact float64 point.

1. kinks: a non-smooth part at x = c for constants c, at float64's c and one
   step either side. Truly on the kink (x - c is 0 in mpmath): not
   differentiable. Otherwise: the slope mpmath gives, or kind `rounding`
   where float64 computes the gap as 0; never "not differentiable".
2. poles: 1/(x - c) and kin at float64's c, through diff, graph, accumulate
   and taylor: one kind for all four, `domain` exactly where x - c is 0.
3. vectors: mean, sum, norm, dot of elements near 1e308: `overflow` where
   f is within float64's range (mpmath) and float64 fails, `domain` where f
   is past it, an answer where float64 does not fail.

Run: .venv/bin/python scripts/sweep_float64_edges.py [--seed N]
Prints one line per mismatch and a tally; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from typing import Any

import mpmath
from typer.testing import CliRunner

from gradcalc.cli import app

mp = mpmath.mp
LARGEST = mpmath.mpf("1.7976931348623157e308")
SLOPE_TOLERANCE = 1e-9

CONSTANTS = {
    "pi": lambda: mp.pi,
    "E": lambda: mp.e,
    "sqrt(2)": lambda: mp.sqrt(2),
    "sqrt(3)": lambda: mp.sqrt(3),
    "log(2)": lambda: mp.log(2),
    "1/3": lambda: mp.mpf(1) / 3,
    "0.1": lambda: mp.mpf(1) / 10,
    "0.7": lambda: mp.mpf(7) / 10,
    "0.5": lambda: mp.mpf(1) / 2,
    "2": lambda: mp.mpf(2),
    "pi/4": lambda: mp.pi / 4,
    "exp(1)/3": lambda: mp.e / 3,
}

# (form, the slope at x of the smooth piece, given the gap x - c, in mpmath)
KINKS = [
    ("abs(x-{c})", lambda g, x: mp.sign(g)),
    ("relu(x-{c})", lambda g, x: 1 if g > 0 else 0),
    ("leaky_relu({c}-x)", lambda g, x: -1 if g < 0 else mpmath.mpf("-0.01")),
    ("max(x, {c})", lambda g, x: 1 if g > 0 else 0),
    ("min({c}, x)", lambda g, x: 1 if g < 0 else 0),
    ("clamp(x, -100, {c})", lambda g, x: 1 if g < 0 else 0),
    ("x*abs(x-{c})", lambda g, x: abs(g) + x * mp.sign(g)),
    ("sin(x)+relu({c}-x)", lambda g, x: mp.cos(x) - (1 if g < 0 else 0)),
    ("sign(x-{c})", lambda g, x: 0),
]
POLES = ["1/(x-{c})", "1/sin(x-{c})", "x/({c}-x)**2"]
COMMANDS = ["diff", "graph", "accumulate", "taylor"]


def run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--json"], env={"NO_COLOR": "1"})
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        return result.exit_code, {"error": {"kind": "not json", "message": result.stdout[:200]}}


def kinks(report: Counter, mismatches: list[str]) -> None:
    for form in KINKS:
        for name, constant in CONSTANTS.items():
            nearest = float(constant())
            for x in (
                math.nextafter(nearest, -math.inf),
                nearest,
                math.nextafter(nearest, math.inf),
            ):
                expression = form[0].format(c=name)
                with mp.workdps(50):
                    gap = mp.mpf(x) - constant()
                    slope = None if gap == 0 else float(form[1](gap, mp.mpf(x)))
                _, doc = run("diff", expression, "--at", repr(x))
                status = doc.get("status") or doc["error"]["kind"]
                if gap == 0:
                    ok = status == "not_differentiable"
                elif status == "agree":
                    found = doc["gradient"]["x"]["sympy"]
                    ok = abs(found - slope) <= SLOPE_TOLERANCE * max(1.0, abs(slope))
                else:
                    ok = status == "rounding"
                report[f"kink {'on' if gap == 0 else 'off'}: {status}"] += 1
                if not ok:
                    mismatches.append(f"{expression} at {x!r}: {status} (mpmath gap {gap})")


def poles(report: Counter, mismatches: list[str]) -> None:
    for form in POLES:
        for name, constant in CONSTANTS.items():
            x = float(constant())
            with mp.workdps(50):
                exactly = mp.mpf(x) == constant()
            expression = form.format(c=name)
            answers = {}
            for command in COMMANDS:
                code, doc = run(command, expression, "--at", repr(x))
                answers[command] = (code, json.dumps(doc.get("error")), doc.get("status"))
            diff = answers["diff"]
            kind = json.loads(diff[1])["kind"] if diff[1] != "null" else diff[2]
            report[f"pole {'exact' if exactly else 'rounded'}: {kind}"] += 1
            if exactly != (kind == "domain") and kind in ("domain", "rounding"):
                mismatches.append(f"{expression} at {x!r}: {kind} (exactly c: {exactly})")
            errors = {c: a[1] for c, a in answers.items() if a[1] != "null"}
            if diff[1] != "null" and set(errors.values()) != {diff[1]}:
                mismatches.append(f"{expression} at {x!r}: commands differ: {answers}")


def vectors(report: Counter, mismatches: list[str], rng: random.Random) -> None:
    forms = {
        "mean(x)": lambda v: mp.fsum(v) / len(v),
        "sum(x)/4": lambda v: mp.fsum(v) / 4,
        "norm(x)/3": lambda v: mp.sqrt(mp.fsum(e * e for e in v)) / 3,
        "norm(x,1)/4": lambda v: mp.fsum(abs(e) for e in v) / 4,
        "dot(x,x)/norm(x)**2": lambda v: mp.mpf(1),
        "mean(x)+x[0]": lambda v: mp.fsum(v) / len(v) + v[0],
    }
    for _ in range(40):
        size = rng.choice((2, 3, 4))
        elements = [rng.choice((1, 1, -1)) * rng.uniform(0.3, 1.7) * 1e308 for _ in range(size)]
        at = "x=[" + ",".join(repr(e) for e in elements) + "]"
        for expression, exact in forms.items():
            with mp.workdps(50):
                value = exact([mp.mpf(e) for e in elements])
            _, doc = run("diff", expression, "--at", at)
            status = doc.get("status") or doc["error"]["kind"]
            report[f"vector: {status}"] += 1
            if abs(value) > LARGEST:
                ok = status == "domain"
            elif "error" in doc:
                ok = status == "overflow"
            else:
                ok = abs(doc["value"] - float(value)) <= 1e-12 * abs(float(value))
            if not ok:
                mismatches.append(f"{expression} at {at}: {status} (mpmath f = {value})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    seed = parser.parse_args().seed
    report: Counter = Counter()
    mismatches: list[str] = []
    started = time.perf_counter()
    kinks(report, mismatches)
    poles(report, mismatches)
    vectors(report, mismatches, random.Random(seed))
    for line in mismatches:
        print("MISMATCH", line)
    for key, count in sorted(report.items()):
        print(f"{count:5d}  {key}")
    total = sum(report.values())
    took = time.perf_counter() - started
    print(f"{total} cases, {len(mismatches)} mismatches, {took:.1f} s")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
