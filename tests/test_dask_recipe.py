"""The cluster recipe of docs/dataframes.md: gradcalc.points over a
partitioned dataset with Dask's map_partitions, on a dask.distributed
LocalCluster of two workers (threads in one process: worker processes would
each import torch and SymPy, 10 to 20 s on a shared 2-core machine; the code
is the same on a real cluster)."""

import numpy as np
import pandas as pd
import pytest

import gradcalc

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

EXPRESSION = "abs(x)*y + log(y)"


def answer(partition):
    """What each worker runs on its partition (a pandas DataFrame)."""
    return gradcalc.points(EXPRESSION, partition)


@pytest.mark.slow
def test_map_partitions_on_a_local_cluster_gives_the_in_process_answers():
    rng = np.random.default_rng(28)
    frame = pd.DataFrame({"x": rng.uniform(-2, 2, 600), "y": rng.uniform(-1, 3, 600)})
    frame.loc[7, "x"] = 0.0  # a kink
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        addresses = set(client.scheduler_info()["workers"])
        assert len(addresses) == 2
        data = dd.from_pandas(frame, npartitions=6)
        answers = data.map_partitions(answer, meta=gradcalc.points(EXPRESSION, data._meta))
        with distributed.get_task_stream(client) as stream:
            got = answers.compute()
        workers = {task["worker"] for task in stream.data}
    expected = gradcalc.points(EXPRESSION, frame)
    # Each partition counts its rows from 1; the index is the input's.
    assert list(got.index) == list(frame.index)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got.drop(columns="line"), expected.drop(columns="line"))
    assert got["status"].iloc[7] == "not_differentiable"
    assert set(got["status"]) >= {"agree", "undefined"}  # y ≤ 0 makes log(y) undefined
    assert got["line"].max() == 100  # six partitions of 100 rows
    assert workers and workers <= addresses  # the partitions ran on the cluster's workers
    # Independently, where it agrees: ∂/∂y = |x| + 1/y.
    agree = got[got["status"] == "agree"]
    hand = agree["x"].abs() + 1 / agree["y"]
    np.testing.assert_allclose(agree["sympy:y"], hand, rtol=1e-15)
