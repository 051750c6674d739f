"""--order 2: the full Hessian, its eigenvalues and the kind of point,
against mpmath's Hessian and the classification read off independently."""

import mpmath
import numpy as np
import pytest
from conftest import validate

from gradcalc.pointcheck import differentiate


@pytest.mark.parametrize(
    "expression, kind",
    [
        ("x^2 - y^2", "saddle"),
        ("x^2 + y^2", "minimum"),
        ("-(x^2) - 3*y^2 + x*y", "maximum"),
        ("x^4 + y^2", "degenerate"),  # a minimum the second derivatives cannot see
        ("x*y", "saddle"),
        ("cos(x) + cos(y)", "maximum"),
    ],
)
def test_classification_at_a_critical_point(cli, expression, kind):
    run = cli("diff", expression, "--at", "x=0,y=0", "--order", "2", "--json")
    hessian = run.json["hessian"]
    assert hessian["critical_point"] is True
    assert hessian["classification"] == kind
    validate(run.json, "diff.schema.json")
    words = " ".join(cli("diff", expression, "--at", "x=0,y=0", "--order", "2").stdout.split())
    said = {"minimum": "a local minimum", "maximum": "a local maximum", "saddle": "a saddle point"}
    assert f"The point is {said.get(kind, 'degenerate')}" in words


def test_not_a_critical_point_says_so(cli):
    run = cli("diff", "x^2 - y^2", "--at", "x=1,y=0", "--order", "2", "--json")
    assert run.json["hessian"]["classification"] == "not a critical point"
    assert run.json["hessian"]["gradient"] == [2.0, 0.0]


def test_matrix_and_eigenvalues_match_mpmath():
    f = lambda x, y, z: mpmath.sin(x * y) + x**3 * z - mpmath.exp(y * z)  # noqa: E731
    point = (0.5, -1.25, 0.75)
    result = differentiate("sin(x*y) + x^3*z - exp(y*z)", dict(zip("xyz", point)), order=2)
    hessian = result.hessian
    assert hessian.variables == ["x", "y", "z"]
    with mpmath.workdps(40):
        at = [mpmath.mpf(v) for v in point]
        expected = np.array(
            [
                [
                    float(mpmath.diff(f, at, [int(k == i) + int(k == j) for k in range(3)]))
                    for j in range(3)
                ]
                for i in range(3)
            ]
        )
    matrix = np.array(hessian.matrix)
    assert np.array_equal(matrix, matrix.T)  # every entry, symmetric
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hessian.autograd, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hessian.eigenvalues, np.linalg.eigvalsh(expected), rtol=1e-10)
    assert hessian.classification == "not a critical point"
