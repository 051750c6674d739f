"""A long vector (the elementwise path) beside a scalar variable, with a
non-smooth function on its kink: a verdict, never an internal error."""

import json


def test_long_vector_with_a_scalar_at_a_kink_is_judged(cli):
    # 1,000 elements (past 64: one symbol per vector); x[7] = 2.0 puts relu on
    # its kink. (Before the guard in pointcheck.differentiate: exit 70, KeyError 'a'.)
    elements = [float(f"{1 + k / 7:.3f}") for k in range(1000)]
    vector = "x=[" + ",".join(repr(v) for v in elements) + "]"
    run = cli("diff", "sum(relu(x - 2)*a) + x*mean(x)", "--at", vector, "--at", "a=0.5", "--json")
    assert run.exit_code == 1, run.stdout[-300:]
    document = json.loads(run.stdout)
    assert document["status"] in ("disagree", "not_differentiable")
    assert "relu(x - 2)" in document["reason"]
    # The expression is vector-valued (the scalar sum is added to each of the
    # 1,000 elements of x*mean(x)); d/da of the sum of its elements is
    # 1000 * sum(relu(x - 2)).
    expected = 1000 * sum(max(0.0, v - 2) for v in elements)
    assert abs(document["gradient"]["a"]["sympy"] - expected) < 1e-9 * expected
