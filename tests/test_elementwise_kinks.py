"""A long vector (the elementwise path) beside a scalar variable, with a
non-smooth function on its kink: a verdict, never an internal error."""

import json


def test_long_vector_with_a_scalar_at_a_kink_is_judged(cli):
    # 100 elements (past 64: one symbol per vector), x[7] = 2.0 puts relu on its kink.
    vector = "x=[" + ",".join(f"{1 + k / 7:.3f}" for k in range(100)) + "]"
    run = cli("diff", "sum(relu(x - 2)*a) + x*mean(x)", "--at", vector, "--at", "a=0.5", "--json")
    assert run.exit_code == 1, run.stdout[-300:]
    document = json.loads(run.stdout)
    assert document["status"] == "not_differentiable"
    assert "along x[7]" in document["reason"]
    # The expression is vector-valued (the scalar sum is added to each of the
    # 100 elements of x*mean(x)); d/da of the sum of its elements is
    # 100 * sum(relu(x - 2)).
    expected = 100 * sum(max(0.0, float(f"{1 + k / 7:.3f}") - 2) for k in range(100))
    gradient = document["gradient"]["a"]
    assert abs(gradient["sympy"] - expected) < 1e-9 * expected
