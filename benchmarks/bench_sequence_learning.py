"""What the sequence models learn: three tasks where the order of the sequence is the
signal, each against a baseline that ignores order.

    python benchmarks/bench_sequence_learning.py [--quick]

1. **Digits as sequences**: scikit-learn's 8x8 digits, each image 8 timesteps (rows)
   of 8 pixels; ``RNNClassifier`` for each cell, shuffled stratified 5-fold
   cross-validated accuracy (``cross_val_score``).
2. **The adding problem** (Hochreiter & Schmidhuber, 1997): 50 timesteps of (value
   uniform on [0, 1), marker); two timesteps are marked, the target is the sum of
   their values. Predicting the mean gives a test MSE of 1/6 (0.167). LSTM and GRU
   ``RNNRegressor``, 10000 training sequences, 1000 test ones.
3. **Word order in text**: sentences of random words holding "alpha" and "beta"; the
   label is whether alpha comes first. ``TokenSequencer`` + Embedding + positional
   encoding + ``TransformerEncoder`` against CountVectorizer + LogisticRegression
   (a bag of words, which cannot see order).

Prints a markdown report with the scores and fit times, also written to ``--out``.
"""

import sys
import warnings

import numpy as np
from _harness import (
    REPO_ROOT,
    Run,
    log,
    machine_info,
    markdown_table,
    run_parser,
    timed,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(REPO_ROOT / "tests"))
from test_attention_layers import _order_task  # noqa: E402  (the test's task)

from sklearn_nn import NeuralNetClassifier, RNNClassifier, RNNRegressor  # noqa: E402
from sklearn_nn.layers import (  # noqa: E402
    Embedding,
    GlobalAveragePooling1D,
    PositionalEncoding,
    TransformerEncoder,
)
from sklearn_nn.preprocessing import TokenSequencer  # noqa: E402


def adding_problem(n, n_steps, rng):
    """X (n, T * 2) time-major rows of (value, marker), y the marked values' sum."""
    values = rng.uniform(size=(n, n_steps))
    markers = np.zeros((n, n_steps))
    for i in range(n):
        markers[i, rng.choice(n_steps, size=2, replace=False)] = 1
    X = np.stack([values, markers], axis=2).reshape(n, -1)
    return X, (values * markers).sum(axis=1)


def digits(quick):
    """5-fold accuracy of each recurrent cell on the digits read row by row."""
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    rows = []
    for cell in ("rnn", "gru", "lstm"):
        log(f"digits: {cell}")
        model = RNNClassifier(
            cell, input_shape=(8, 8), max_iter=10 if quick else 100, random_state=0
        )
        seconds, scores = timed(cross_val_score, model, X / 16, y, cv=cv)
        rows.append(
            [cell, f"{scores.mean():.3f} +- {scores.std():.3f}", f"{seconds:.1f}"]
        )
    return [
        "## Digits as 8 timesteps of 8 pixels (5-fold accuracy)",
        "",
        *markdown_table(["cell", "accuracy", "seconds (5 fits)"], rows),
    ]


def adding(quick):
    """Test MSE of LSTM and GRU on the adding problem, against the mean."""
    rng = np.random.default_rng(0)
    n_train = 2000 if quick else 10000
    X, y = adding_problem(n_train + 1000, 50, rng)
    rows = []
    for cell in ("lstm", "gru"):
        log(f"adding problem: {cell}")
        model = RNNRegressor(
            cell,
            (32,),
            input_shape=(50, 2),
            batch_size=64,
            learning_rate_init=3e-3,
            max_iter=5 if quick else 40,
            clip_norm=1.0,
            random_state=0,
        )
        seconds, _ = timed(model.fit, X[:n_train], y[:n_train])
        mse = np.mean((model.predict(X[n_train:]) - y[n_train:]) ** 2)
        rows.append([cell, f"{mse:.4f}", model.n_iter_, f"{seconds:.1f}"])
    baseline = np.mean((y[:n_train].mean() - y[n_train:]) ** 2)
    return [
        "## The adding problem, 50 timesteps (test MSE)",
        "",
        f"Predicting the training mean: {baseline:.3f}.",
        "",
        *markdown_table(["cell", "test MSE", "epochs", "seconds"], rows),
    ]


def word_order(quick):
    """Test accuracy of a Transformer and of a bag of words on word order."""
    docs, y = _order_task(2000, seed=0)
    test_docs, test_y = _order_task(1000, seed=1)
    bag = make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000))
    layers = [
        Embedding(40, 16, mask_zero=True),
        PositionalEncoding(),
        TransformerEncoder(2, ff_units=32),
        GlobalAveragePooling1D(),
    ]
    transformer = make_pipeline(
        TokenSequencer(max_length=16, vocabulary_size=40),
        NeuralNetClassifier(
            layers,
            learning_rate_init=0.003,
            max_iter=5 if quick else 60,
            random_state=0,
        ),
    )
    rows = []
    for name, model in (
        ("bag of words + LogisticRegression", bag),
        ("TokenSequencer + TransformerEncoder", transformer),
    ):
        log(f"word order: {name}")
        seconds, _ = timed(model.fit, docs, y)
        rows.append([name, f"{model.score(test_docs, test_y):.3f}", f"{seconds:.1f}"])
    return [
        "## Word order in text (test accuracy)",
        "",
        *markdown_table(["model", "accuracy", "seconds"], rows),
    ]


def main(argv=None):
    """Run the three tasks and print the report."""
    parser = run_parser(
        "What the sequence models learn, against baselines that ignore order.",
        "smoke run: fewer epochs and rows",
        repeat=False,
    )
    run = Run(parser.parse_args(argv))
    warnings.simplefilter("ignore", ConvergenceWarning)
    sections = [section(run.args.quick) for section in (digits, adding, word_order)]
    title = "What the sequence models learn"
    return run.report(title, machine_info(), sections, "fewer epochs and rows")


if __name__ == "__main__":
    sys.exit(main())
