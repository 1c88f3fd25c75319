"""Write the saved reference outputs that ``tests/test_reference.py`` compares to.

Run from the repository root with the code whose behaviour is the reference (it was
run once at commit 6eaac6e, before the Engine v2 refactor)::

    python tests/reference/make_reference.py

A deliberate change of behaviour re-records only the cases it changes, with the
current code, and says so in ``engine_v1.json``::

    python tests/reference/make_reference.py --update PREFIX [PREFIX ...] \
        --reason "why"

(Dropout models were re-recorded so: issue 15 keyed their masks by row content.)

It fits small models of every estimator (float64 and float32, each solver, dropout,
early stopping, sparse X, images) and saves their parameters and raw outputs, with a
fingerprint of the machine and libraries: outputs are bit-identical only there.
"""

import json
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).parent


def fingerprint():
    """What must match for bit-identical outputs: CPU, BLAS and library versions."""
    import numba
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = sorted(
        f"{i.get('internal_api')}-{i.get('version')}-{i.get('architecture')}"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )
    return {
        "machine": platform.machine(),
        "cpu": cpu,
        "blas": blas,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
    }


def data():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xr, yr = make_regression(n_samples=150, n_features=6, n_targets=2, random_state=0)
    Xr = StandardScaler().fit_transform(Xr)
    yr = yr / yr.std(axis=0)
    return X[:400], y[:400], X[400:460], Xr[:120], yr[:120], Xr[120:]


def _fit(est, X, y):
    return est.fit(X, y)


def _warm_start_twice(est, X, y):
    est.fit(X, y)
    return est.set_params(warm_start=True).fit(X, y)


def _partial_fit_in_chunks(est, X, y):
    classes = np.unique(y) if hasattr(est, "class_weight") else None
    for start in range(0, X.shape[0], 150):
        chunk = slice(start, start + 150)
        if classes is None:
            est.partial_fit(X[chunk], y[chunk])
        else:
            est.partial_fit(X[chunk], y[chunk], classes=classes)
    return est


def _weighted(est, X, y):
    weights = np.random.default_rng(0).uniform(0.1, 3.0, X.shape[0])
    return est.fit(X, y, sample_weight=weights)


FITS = {
    "warm": _warm_start_twice,
    "partial": _partial_fit_in_chunks,
    "weighted": _weighted,
}


def fit_case(name, est, X, y):
    """Fit ``est`` the way the case's name says (plain fit by default)."""
    recipe = next((f for key, f in FITS.items() if f"_{key}_" in name), _fit)
    return recipe(est, X, y)


def cases():
    """(name, estimator, X_train, y_train, X_test, output method) for each case."""
    from sklearn_nn import (
        CNNClassifier,
        CNNRegressor,
        LogisticRegression,
        MLPClassifier,
        MLPRegressor,
    )
    from sklearn_nn.layers import AvgPool2D, Conv2D, Dense, Dropout, Flatten

    X, y, Xt, Xr, yr, Xrt = data()
    binary = (y % 2).astype(int)
    small = dict(max_iter=4, random_state=0)
    out = []
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        Xd, Xtd = X.astype(dtype), Xt.astype(dtype)
        Xrd, Xrtd = Xr.astype(dtype), Xrt.astype(dtype)
        out += [
            (f"mlp_adam_{tag}", MLPClassifier((20,), **small), Xd, y, Xtd, "df"),
            (
                f"mlp_sgd_dropout_{tag}",
                MLPClassifier((16, 8), solver="sgd", dropout=0.2, **small),
                Xd,
                y,
                Xtd,
                "df",
            ),
            (
                f"mlp_logistic_lbfgs_{tag}",
                MLPClassifier((10,), activation="logistic", solver="lbfgs", **small),
                Xd,
                binary,
                Xtd,
                "df",
            ),
            (
                f"mlp_early_stopping_{tag}",
                MLPClassifier((12,), early_stopping=True, batch_size=64, **small),
                Xd,
                y,
                Xtd,
                "df",
            ),
            (
                f"mlpreg_adam_{tag}",
                MLPRegressor((10,), activation="tanh", **small),
                Xrd,
                yr,
                Xrtd,
                "predict",
            ),
            (
                f"mlpreg_lbfgs_gelu_{tag}",
                MLPRegressor((8,), activation="gelu", solver="lbfgs", **small),
                Xrd,
                yr,
                Xrtd,
                "predict",
            ),
            (
                f"mlpreg_poisson_{tag}",
                MLPRegressor((6,), loss="poisson", **small),
                Xrd,
                np.abs(yr[:, 0]),
                Xrtd,
                "predict",
            ),
            (
                f"logreg_lbfgs_{tag}",
                LogisticRegression(max_iter=20),
                Xd,
                y,
                Xtd,
                "df",
            ),
            (
                f"logreg_adam_l1_{tag}",
                LogisticRegression(solver="adam", l1_ratio=0.5, **small),
                Xd,
                binary,
                Xtd,
                "df",
            ),
            (
                f"cnn_default_{tag}",
                CNNClassifier(
                    input_shape=(8, 8), batch_size=64, max_iter=2, random_state=0
                ),
                Xd[:200],
                y[:200],
                Xtd,
                "df",
            ),
            (
                f"cnn_channels_first_{tag}",
                CNNClassifier(
                    conv_filters=(4,),
                    hidden_layer_sizes=(8,),
                    dropout=0.0,
                    input_shape=(4, 4, 4),
                    data_format="channels_first",
                    batch_size=50,
                    **small,
                ),
                Xd[:200],
                y[:200],
                Xtd,
                "df",
            ),
            (
                f"cnn_custom_layers_{tag}",
                CNNClassifier(
                    layers=[
                        Conv2D(3, 2, padding="same", activation="tanh"),
                        AvgPool2D(padding="same"),
                        Flatten(),
                        Dense(8, "gelu"),
                        Dropout(0.3),
                    ],
                    input_shape=(8, 8),
                    batch_size=50,
                    **small,
                ),
                Xd[:200],
                y[:200],
                Xtd,
                "df",
            ),
            (
                f"cnnreg_lbfgs_{tag}",
                CNNRegressor(
                    conv_filters=(3,),
                    hidden_layer_sizes=(),
                    dropout=0.0,
                    solver="lbfgs",
                    input_shape=(2, 3),
                    **small,
                ),
                Xrd,
                yr,
                Xrtd,
                "predict",
            ),
        ]
    # the fit paths beyond one plain fit, in float64 (engine v2 moved their code)
    out += [
        ("mlp_warm_start_float64", MLPClassifier((12,), **small), X, y, Xt, "df"),
        ("mlp_partial_fit_float64", MLPClassifier((12,), **small), X, y, Xt, "df"),
        (
            "mlpreg_partial_fit_float64",
            MLPRegressor((6,), **small),
            Xr,
            yr,
            Xrt,
            "predict",
        ),
        (
            "mlp_weighted_lbfgs_float64",
            MLPClassifier((8,), solver="lbfgs", **small),
            X,
            y,
            Xt,
            "df",
        ),
        ("mlp_weighted_adam_float64", MLPClassifier((8,), **small), X, y, Xt, "df"),
        (
            "mlp_class_weight_float64",
            MLPClassifier((8,), class_weight="balanced", **small),
            X,
            binary,
            Xt,
            "df",
        ),
        (
            "mlp_l1_sgd_float64",
            MLPClassifier((8,), solver="sgd", l1=1e-3, **small),
            X,
            y,
            Xt,
            "df",
        ),
        (
            "mlp_invscaling_float64",
            MLPClassifier((8,), solver="sgd", learning_rate="invscaling", **small),
            X,
            y,
            Xt,
            "df",
        ),
        (
            "mlp_adaptive_float64",
            MLPClassifier(
                (8,),
                solver="sgd",
                learning_rate="adaptive",
                n_iter_no_change=1,
                tol=10.0,
                max_iter=6,
                random_state=0,
            ),
            X,
            y,
            Xt,
            "df",
        ),
        (
            "cnn_early_stopping_float64",
            CNNClassifier(
                conv_filters=(3,),
                hidden_layer_sizes=(8,),
                dropout=0.2,
                input_shape=(8, 8),
                early_stopping=True,
                batch_size=50,
                **small,
            ),
            X[:200],
            y[:200],
            Xt,
            "df",
        ),
        (
            "logreg_partial_fit_float64",
            LogisticRegression(solver="sgd", random_state=0),
            X,
            y,
            Xt,
            "df",
        ),
    ]
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
    out.append(
        ("mlp_sparse_float64", MLPClassifier((10,), **small), Xs, y, Xs[:60], "df")
    )
    return out


def _record(name, est, X, y, Xt, method, arrays):
    fit_case(name, est, X, y)
    for i, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        arrays[f"{name}/coef{i}"] = w
        arrays[f"{name}/intercept{i}"] = b
    output = est.decision_function(Xt) if method == "df" else est.predict(Xt)
    arrays[f"{name}/output"] = output
    arrays[f"{name}/n_iter"] = np.asarray(est.n_iter_)


def main():
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--update", nargs="+", metavar="PREFIX")
    parser.add_argument("--reason", default="")
    args = parser.parse_args()
    info = fingerprint()
    arrays = {}
    if args.update:
        old = np.load(HERE / "engine_v1.npz")
        arrays = {k: old[k] for k in old.files}
        info = json.loads((HERE / "engine_v1.json").read_text())
        if info.get("machine") != fingerprint()["machine"]:
            raise SystemExit("re-record on the machine of the reference")
    updated = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, est, X, y, Xt, method in cases():
            if args.update and not name.startswith(tuple(args.update)):
                continue
            for key in [k for k in arrays if k.startswith(name + "/")]:
                del arrays[key]
            _record(name, est, X, y, Xt, method, arrays)
            updated.append(name)
    if args.update:
        info.setdefault("re-recorded", []).append(
            {"cases": updated, "reason": args.reason}
        )
    np.savez_compressed(HERE / "engine_v1.npz", **arrays)
    (HERE / "engine_v1.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"saved {len(arrays)} arrays ({len(updated)} cases recorded)")


if __name__ == "__main__":
    main()
