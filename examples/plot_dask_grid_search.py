"""
=======================================================
Scaling out with Dask: grid search and streamed batches
=======================================================

Two ways to take sklearn_nn estimators past one process, both with Dask
(``pip install "dask[distributed]" dask-ml``):

- ``GridSearchCV`` under joblib's ``"dask"`` backend sends each candidate's fits to
  the workers of a Dask cluster. Here the cluster is a ``LocalCluster`` of two
  workers on this machine; pointing ``Client`` at a real scheduler's address is
  the only change for a cluster of machines.
- ``dask_ml.wrappers.Incremental`` streams a Dask array, block by block, through
  the estimator's ``partial_fit``, for data that does not fit in memory.

Each worker runs one task at a time (``threads_per_worker=1``), so the two workers
keep two cores busy.
"""

import os
import time
import warnings

import dask.array as da
import joblib
import matplotlib.pyplot as plt
from dask.distributed import Client, LocalCluster
from dask_ml.wrappers import Incremental
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_nn import MLPClassifier

# CI and the test suite set this to run the example on less data and fewer epochs
FAST = os.environ.get("SKLEARN_NN_EXAMPLES_FAST") == "1"
if FAST:  # a few epochs cannot converge, and the fast mode knows it
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
search = GridSearchCV(
    make_pipeline(
        StandardScaler(),
        MLPClassifier(
            max_iter=15 if FAST else 200, early_stopping=True, random_state=0
        ),
    ),
    {
        "mlpclassifier__hidden_layer_sizes": [(64,), (256,)],
        "mlpclassifier__alpha": [1e-4, 1e-2] if FAST else [1e-4, 1e-3, 1e-2],
    },
    cv=3,
    n_jobs=-1,
)
# two workers of one thread each; processes=False keeps them in this process (a
# script that starts worker processes must put its code under
# ``if __name__ == "__main__":``, since each new process imports it)
cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
)
client = Client(cluster)
start = time.perf_counter()
# one BLAS thread per worker: every fit runs BLAS on one thread anyway, and with
# this limit the scoring (predict) and image or sequence layers' threads do too,
# so that two fits at once use the two cores without competing for them
with joblib.parallel_backend("dask"), threadpool_limits(1):
    search.fit(X, y)
print(f"grid search on the Dask cluster: {time.perf_counter() - start:.1f} s")
print(f"best: {search.best_params_}, accuracy {search.best_score_:.4f}")

# %%
# ``Incremental.partial_fit`` calls the estimator's ``partial_fit`` on each block of
# a Dask array in turn (the first call needs ``classes``), so each call is one pass
# over the data, block by block; only one block is in memory at a time.
X_big, y_big = make_classification(
    n_samples=20000 if FAST else 200000,
    n_features=40,
    n_informative=20,
    n_classes=3,
    random_state=0,
)
X_big = da.from_array(X_big.astype("float32"), chunks=(5000, 40))
y_big = da.from_array(y_big, chunks=5000)
stream = Incremental(MLPClassifier((64,), random_state=0), scoring="accuracy")
scores = []
for _ in range(2 if FAST else 5):  # each partial_fit continues the same model
    stream.partial_fit(X_big[:-5000], y_big[:-5000], classes=[0, 1, 2])
    scores.append(float(stream.score(X_big[-5000:], y_big[-5000:])))
print(f"held-out accuracy after each pass: {[round(s, 4) for s in scores]}")
client.close()
cluster.close()

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(range(1, len(scores) + 1), scores, "o-")
ax.set(
    xlabel="passes over the Dask array",
    ylabel="held-out accuracy",
    title="partial_fit streamed by dask_ml's Incremental",
)
fig.tight_layout()
plt.show()
