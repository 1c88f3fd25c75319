"""One fit's working set: preallocated buffers, the train step, the epoch, L-BFGS.

A ``Trainer`` is built once per call to ``fit`` / ``partial_fit`` and thrown away after
it; it never lives on the estimator, so ``clone`` and pickle stay trivial. Nothing in
the batch loop allocates array data: the mini-batch rows are copied into fixed
buffers (``np.take(..., out=)``), and every kernel writes into buffers sized for the
largest batch.
"""

import numpy as np

from ._kernels.losses import LOSSES
from ._kernels.optim import add_penalty_gradient, penalty_value
from ._network import take_rows
from ._threads import kernel_threads
from .layers import CSRRows

#: most rows per chunk when predicting
PREDICT_CHUNK = 4096
#: bytes of layer buffers per predict chunk (the reference CNN needs 0.9-1.2 MB a row
#: on 32x32x3 images, an MLP 784-256-128-10 5 kB)
PREDICT_BUFFER_BYTES = 64 * 2**20
#: bytes of layer buffers for the full-batch L-BFGS objective, computed in chunks of
#: rows beyond it (binds for image networks: an MLP's rows need a few kB)
LBFGS_BUFFER_BYTES = 256 * 2**20


def rows_within(network, dtype, budget_bytes):
    """How many samples' layer buffers fit in ``budget_bytes`` (at least 1)."""

    def nbytes(n_rows):
        buffers = network.allocate(n_rows, dtype)
        return sum(
            v.nbytes for b in buffers for v in b.values() if hasattr(v, "nbytes")
        )

    fixed = 2 * nbytes(1) - nbytes(2)  # per-fit buffers, e.g. per-part gradients
    per_row = nbytes(2) - nbytes(1)
    return max(1, (budget_bytes - fixed) // max(per_row, 1))


def predict_outputs(network, params, X, rows=None, n_threads=None):
    """Raw outputs (logits, or the regression output before its link) for X.

    Parameters
    ----------
    network : Network
    params : ndarray of shape (n_params,)
    X : ndarray of shape (n_samples, ...) or CSRRows
    rows : ndarray of int, default=None
        Only these rows of X (all rows if None).
    n_threads : int, default=None
        Threads for the image layers (None: from ``kernel_threads``, BLAS pinned
        to one thread meanwhile; an int means the caller set that up).
    """
    if n_threads is None:
        with kernel_threads(network) as n_threads:
            return predict_outputs(network, params, X, rows, n_threads)
    views = network.views(params)
    if rows is None:
        n_total = len(X.indptr) - 1 if isinstance(X, CSRRows) else X.shape[0]
        rows = np.arange(n_total)
    n_total = rows.shape[0]
    chunk = min(PREDICT_CHUNK, rows_within(network, params.dtype, PREDICT_BUFFER_BYTES))
    chunk = max(1, min(chunk, n_total))
    buffers = network.allocate(chunk, params.dtype, n_threads)
    x_buf = (
        None if isinstance(X, CSRRows) else np.empty((chunk,) + X.shape[1:], X.dtype)
    )
    out = np.empty((n_total,) + network.out_shape, dtype=params.dtype)
    for start in range(0, n_total, chunk):
        stop = min(start + chunk, n_total)
        x = take_rows(X, rows[start:stop], x_buf)
        out[start:stop] = network.forward(views, x, buffers, stop - start)
    return out


class Trainer:
    """Buffers and steps for training ``network`` in place on ``params``.

    Parameters
    ----------
    network : Network
    params : ndarray of shape (n_params,)
        Updated in place.
    loss : str
        A key of ``LOSSES``.
    X : ndarray of shape (n_samples, ...) or CSRRows
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets, in the parameters' dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    alpha, l1 : float
        L2 and L1 strengths, divided by the batch's total sample weight at each step.
    batch_size : int
        The largest batch; buffers are sized for it.
    dropout_rng : numpy.random.Generator or None
        Source of the dropout masks.
    n_threads : int, default=1
        Threads for the image layers (see ``sklearn_nn._threads``).
    """

    def __init__(
        self,
        network,
        params,
        loss,
        X,
        Y,
        sample_weight,
        alpha,
        l1,
        batch_size,
        dropout_rng=None,
        n_threads=1,
    ):
        dtype = params.dtype
        self.network = network
        self.params = params
        self.views = network.views(params)
        self.grads = np.zeros_like(params)
        self.grad_views = network.views(self.grads)
        self.loss_kernel = LOSSES[loss][0]
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.alpha, self.l1 = alpha, l1
        self.dropout_rng = dropout_rng
        self.buffers = network.allocate(batch_size, dtype, n_threads)
        self.sw_buf = np.ones(batch_size, dtype)
        self._grad_sum = None  # gradient accumulator of a chunked objective
        self.y_buf = np.empty((batch_size, Y.shape[1]), dtype)
        # mini-batch copies of X; the full-batch objective (L-BFGS) reads X directly
        self.x_buf = None
        if not isinstance(X, CSRRows) and batch_size < Y.shape[0]:
            self.x_buf = np.empty((batch_size,) + X.shape[1:], X.dtype)

    def _load_batch(self, rows):
        n = rows.shape[0]
        if self.x_buf is None and not isinstance(self.X, CSRRows):
            x = self.X[rows]  # one batch holds every sample: a copy per epoch
        else:
            x = take_rows(self.X, rows, self.x_buf)
        y = self.y_buf[:n]
        np.take(self.Y, rows, axis=0, out=y)
        sw = self.sw_buf[:n]
        if self.sample_weight is None:
            sw_sum = float(n)
        else:
            np.take(self.sample_weight, rows, out=sw)
            sw_sum = float(sw.sum())
        return x, y, sw, sw_sum

    def train_step(self, rows, optimizer):
        """Forward, loss, backward and one optimizer update on the samples ``rows``.

        Returns the batch's weighted mean data loss (without the penalty) and its
        total sample weight.
        """
        n = rows.shape[0]
        x, y, sw, sw_sum = self._load_batch(rows)
        if sw_sum <= 0:  # all weights zero: nothing to learn from this batch
            return 0.0, 0.0
        dtype = self.params.dtype.type
        z = self.network.forward(self.views, x, self.buffers, n, True, self.dropout_rng)
        d_z = self.buffers[-1]["d"][:n]
        loss = self.loss_kernel(z, y, sw, dtype(1.0 / sw_sum), d_z)
        self.network.backward(self.views, self.grad_views, x, self.buffers, n)
        optimizer.step(
            self.params,
            self.grads,
            self.network.n_penalized,
            self.alpha / sw_sum,
            self.l1 / sw_sum,
        )
        return loss, sw_sum

    def run_epoch(self, sample_idx, batch_size, optimizer):
        """One pass over ``sample_idx`` in mini-batches; returns the epoch's loss.

        The batch objectives (mean loss + penalty / batch weight) averaged with the
        batches' weights: scikit-learn's epoch loss when all weights are one, and
        the same for integer weights as for repeated rows. The penalty is
        evaluated once, at the epoch's end.
        """
        n = sample_idx.shape[0]
        weighted_loss = 0.0
        total_weight = 0.0
        n_batches = 0
        for start in range(0, n, batch_size):
            loss, weight = self.train_step(
                sample_idx[start : start + batch_size], optimizer
            )
            weighted_loss += loss * weight
            total_weight += weight
            n_batches += 1
        if total_weight <= 0:
            return 0.0
        return (weighted_loss + n_batches * self.penalty()) / total_weight

    def penalty(self):
        """``alpha/2 ||W||^2 + l1 ||W||_1`` at the current parameters."""
        return penalty_value(self.params, self.network.n_penalized, self.alpha, self.l1)

    def data_loss(self, outputs, rows):
        """Weighted mean loss of precomputed ``outputs`` for the samples ``rows``."""
        y = self.Y[rows]
        sw = (
            np.ones(rows.shape[0], y.dtype)
            if self.sample_weight is None
            else self.sample_weight[rows]
        )
        total = float(sw.sum())
        if total <= 0:
            return np.nan
        scratch = np.empty_like(outputs)
        dtype = self.params.dtype.type
        return self.loss_kernel(outputs, y, sw, dtype(1.0 / total), scratch)

    def objective(self, flat):
        """Full-batch loss and gradient at ``flat`` (float64), for L-BFGS.

        The penalty is ``alpha / 2 ||W||^2`` over the total sample weight, as in
        scikit-learn's MLP. When ``self.buffers`` hold fewer rows than the data, the
        loss and gradient are summed over chunks of rows (exact: each chunk's loss
        is scaled by the total weight).
        """
        self.params[:] = flat
        n = self.Y.shape[0]
        weights = self.sample_weight
        sw_sum = float(n) if weights is None else float(weights.sum())
        dtype = self.params.dtype.type
        chunk = self.y_buf.shape[0]
        if chunk < n and self._grad_sum is None:
            self._grad_sum = np.empty_like(self.grads)
        total = self.grads if chunk >= n else self._grad_sum
        value = 0.0
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            m = stop - start
            if isinstance(self.X, CSRRows):
                x = CSRRows(
                    self.X.data, self.X.indices, self.X.indptr, np.arange(start, stop)
                )
            else:
                x = self.X[start:stop]  # contiguous rows: a view
            # sw_buf holds ones, for unweighted data
            sw = self.sw_buf[:m] if weights is None else weights[start:stop]
            z = self.network.forward(self.views, x, self.buffers, m)
            d_z = self.buffers[-1]["d"][:m]
            value += self.loss_kernel(
                z, self.Y[start:stop], sw, dtype(1.0 / sw_sum), d_z
            )
            self.network.backward(self.views, self.grad_views, x, self.buffers, m)
            if total is not self.grads:
                if start == 0:
                    total[...] = self.grads
                else:
                    total += self.grads
        l2 = self.alpha / sw_sum
        value += penalty_value(self.params, self.network.n_penalized, l2, 0.0)
        add_penalty_gradient(self.params, self.network.n_penalized, dtype(l2), total)
        return value, total.astype(np.float64)
