"""One fit's working set: the data, preallocated buffers, the train step, the epoch.

A ``Trainer`` is built once per call to ``fit`` / ``partial_fit`` and thrown away after
it; it never lives on the estimator, so ``clone`` and pickle stay trivial. Nothing in
the batch loop allocates array data: the mini-batch rows are copied into fixed
buffers (``np.take(..., out=)``), and every kernel writes into buffers sized for the
largest batch.
"""

import numpy as np

from ._kernels.dropout import csr_row_keys, keyed_uniform, row_keys
from ._kernels.losses import LOSSES
from ._kernels.optim import add_penalty_gradient, clip_by_global_norm, penalty_value
from ._predict import predict_outputs, take_rows
from .layers.base import CSRRows

#: bytes of layer buffers for the full-batch L-BFGS objective, computed in chunks of
#: rows beyond it (binds for image networks: an MLP's rows need a few kB)
LBFGS_BUFFER_BYTES = 256 * 2**20


class RowRandom:
    """Random numbers for the layers that need them, keyed by each sample's content.

    ``start_batch`` hashes the batch's input rows (with the fit's seed); each
    ``uniform`` call then fills one layer's draws from (row key, epoch, call index),
    counter-based: a sample draws the same numbers wherever it sits in the data, and
    identical samples draw identical numbers in an epoch (so a sample weight of 2 is
    the sample twice). Layers call ``uniform`` in network order, one call each.

    Parameters
    ----------
    seed : int
        From the estimator's ``random_state``.
    n_rows : int
        The largest batch.
    """

    def __init__(self, seed, n_rows):
        self.seed = np.uint64(seed)
        self.keys = np.empty(n_rows, dtype=np.uint64)
        self._n = 0
        self._stream = 0

    def start_batch(self, x, n, epoch):
        """Key the ``n`` rows of the batch input ``x`` for epoch ``epoch``."""
        keys = self.keys[:n]
        if isinstance(x, CSRRows):
            data = x.data.view(np.uint64 if x.data.itemsize == 8 else np.uint32)
            csr_row_keys(data, x.indices, x.indptr, x.rows, self.seed, keys)
        else:
            rows = x.reshape(n, -1)
            row_keys(
                rows.view(np.uint64 if rows.itemsize == 8 else np.uint32),
                self.seed,
                keys,
            )
        self._n = n
        self._stream = epoch << 16  # then one stream per call in the batch

    def uniform(self, out):
        """Fill ``out`` (n, m) with uniform draws on [0, 1) for the next layer."""
        keyed_uniform(self.keys[: self._n], np.uint64(self._stream), out)
        self._stream += 1


class TrainingData:
    """What a fit trains on: inputs, encoded targets, sample weights.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...) or CSRRows
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets, in the parameters' dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    """

    def __init__(self, X, Y, sample_weight=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    @property
    def n_samples(self):
        """Number of samples."""
        return self.Y.shape[0]

    def take(self, rows, out):
        """Inputs of the samples ``rows``: copied into ``out`` for dense X, a
        row-index view for CSR X (never densified)."""
        return take_rows(self.X, rows, out)

    def chunk(self, start, stop):
        """Inputs of the contiguous samples ``[start, stop)``, without a copy."""
        if isinstance(self.X, CSRRows):
            return CSRRows(
                self.X.data, self.X.indices, self.X.indptr, np.arange(start, stop)
            )
        return self.X[start:stop]


class Trainer:
    """Buffers and steps for training a network in place on ``params``.

    Parameters
    ----------
    network : Network
    params : ndarray of shape (n_params,)
        Updated in place (its trainable prefix).
    state : ndarray of shape (n_state,)
        Layer state (running statistics), updated in place in training.
    data : TrainingData
    loss : str
        A key of ``LOSSES``.
    alpha, l1 : float, default=0
        L2 and L1 strengths, divided by the batch's total sample weight at each step.
    batch_size : int
        The largest batch; buffers are sized for it.
    rng : RowRandom, default=None
        Random numbers for the layers that need them (dropout masks).
    n_threads : int, default=1
        Threads for the image layers (see ``sklearn_nn._threads``).
    clip_norm : float, default=None
        Largest L2 norm of a step's data-loss gradient (None: no clipping).
    penalty_per : {"batch", "data"}, default="batch"
        What the L2/L1 strengths are divided by at each step: the batch's total
        sample weight (scikit-learn's MLP), or the data's, so that each step's
        expected gradient is that of ``mean loss + penalty / total weight``
        (scikit-learn's LogisticRegression objective).
    keep : ndarray of bool of shape (n_params,), default=None
        A pruned model's mask (False: pruned). Gradients are zeroed there, so
        pruned weights, already 0 with no optimizer state, stay exactly 0 under
        every solver.
    """

    def __init__(
        self,
        network,
        params,
        state,
        data,
        *,
        loss,
        batch_size,
        alpha=0.0,
        l1=0.0,
        rng=None,
        n_threads=1,
        clip_norm=None,
        penalty_per="batch",
        keep=None,
    ):
        dtype = params.dtype
        self.network, self.params, self.data = network, params, data
        self.grads = np.zeros_like(params)
        self.bound = network.bind(params, state, batch_size, self.grads, n_threads)
        k = network.n_trainable
        self.trainable, self.trainable_grads = params[:k], self.grads[:k]
        self.keep = None if keep is None else keep[:k].astype(dtype)
        self.loss_kernel = LOSSES[loss][0]
        self.alpha, self.l1, self.rng = alpha, l1, rng
        self.clip_norm = clip_norm
        weights = data.sample_weight
        self.data_weight = None  # None: penalty per batch
        if penalty_per == "data":
            self.data_weight = float(
                data.n_samples if weights is None else weights.sum()
            )
        self.sw_buf = np.ones(batch_size, dtype)
        self._grad_sum = None  # gradient accumulator of a chunked objective
        self.y_buf = np.empty((batch_size, data.Y.shape[1]), dtype)
        # mini-batch copies of X; one batch of every sample copies X[rows] itself
        self.x_buf = None
        if not isinstance(data.X, CSRRows) and batch_size < data.n_samples:
            self.x_buf = np.empty((batch_size,) + data.X.shape[1:], data.X.dtype)

    def _load_batch(self, rows):
        n = rows.shape[0]
        x = self.data.take(rows, self.x_buf)
        y = self.y_buf[:n]
        np.take(self.data.Y, rows, axis=0, out=y)
        sw = self.sw_buf[:n]
        if self.data.sample_weight is None:
            sw_sum = float(n)
        else:
            np.take(self.data.sample_weight, rows, out=sw)
            sw_sum = float(sw.sum())
        return x, y, sw, sw_sum

    def train_step(self, rows, optimizer, epoch=0):
        """Forward, loss, backward and one optimizer update on the samples ``rows``.

        Returns the batch's weighted mean data loss (without the penalty) and its
        total sample weight.
        """
        n = rows.shape[0]
        x, y, sw, sw_sum = self._load_batch(rows)
        if sw_sum <= 0:  # all weights zero: nothing to learn from this batch
            return 0.0, 0.0
        if self.rng is not None:
            self.rng.start_batch(x, n, epoch)
        dtype = self.params.dtype.type
        z = self.bound.forward(x, n, True, self.rng)
        loss = self.loss_kernel(
            z, y, sw, dtype(1.0 / sw_sum), self.bound.output_gradient(n)
        )
        self.bound.backward(x, n)
        if self.keep is not None:
            np.multiply(self.trainable_grads, self.keep, out=self.trainable_grads)
        if self.clip_norm is not None:
            clip_by_global_norm(self.trainable_grads, self.clip_norm)
        per = sw_sum if self.data_weight is None else self.data_weight
        optimizer.step(
            self.trainable,
            self.trainable_grads,
            self.network.n_penalized,
            self.alpha / per,
            self.l1 / per,
        )
        return loss, sw_sum

    def run_epoch(self, sample_idx, batch_size, optimizer, epoch=0):
        """One pass over ``sample_idx`` in mini-batches; returns the epoch's loss.

        ``epoch`` (the fit's epoch count so far) keys the layers' random draws.

        The batch objectives (mean loss + penalty / batch weight) averaged with the
        batches' weights: scikit-learn's epoch loss when all weights are one, and
        the same for integer weights as for repeated rows; with the penalty per
        data weight, the mean loss + penalty / data weight. The penalty is
        evaluated once, at the epoch's end.
        """
        n = sample_idx.shape[0]
        weighted_loss = 0.0
        total_weight = 0.0
        n_batches = 0
        for start in range(0, n, batch_size):
            loss, weight = self.train_step(
                sample_idx[start : start + batch_size], optimizer, epoch
            )
            weighted_loss += loss * weight
            total_weight += weight
            n_batches += 1
        if total_weight <= 0:
            return 0.0
        if self.data_weight is not None:
            return weighted_loss / total_weight + self.penalty() / self.data_weight
        return (weighted_loss + n_batches * self.penalty()) / total_weight

    def penalty(self):
        """``alpha/2 ||W||^2 + l1 ||W||_1`` at the current parameters."""
        return penalty_value(self.params, self.network.n_penalized, self.alpha, self.l1)

    def data_loss(self, outputs, data, rows=None):
        """Weighted mean loss of precomputed ``outputs`` for the samples ``rows``
        (all if None) of ``data``."""
        y = data.Y if rows is None else data.Y[rows]
        weights = data.sample_weight
        if weights is None:
            sw = np.ones(y.shape[0], y.dtype)
        else:
            sw = weights if rows is None else weights[rows]
        total = float(sw.sum())
        if total <= 0:
            return np.nan
        scratch = np.empty_like(outputs)
        dtype = self.params.dtype.type
        return self.loss_kernel(outputs, y, sw, dtype(1.0 / total), scratch)

    def objective(self, flat):
        """Full-batch loss and gradient w.r.t. the trainable parameters at ``flat``
        (float64), for L-BFGS.

        The penalty is ``alpha / 2 ||W||^2`` over the total sample weight, as in
        scikit-learn's MLP. When the buffers hold fewer rows than the data, the
        loss and gradient are summed over chunks of rows (exact: each chunk's loss
        is scaled by the total weight).
        """
        self.trainable[:] = flat
        data, n = self.data, self.data.n_samples
        weights = data.sample_weight
        sw_sum = float(n) if weights is None else float(weights.sum())
        dtype = self.params.dtype.type
        chunk = self.y_buf.shape[0]
        if chunk < n and self._grad_sum is None:
            self._grad_sum = np.empty_like(self.trainable_grads)
        total = self.trainable_grads if chunk >= n else self._grad_sum
        value = 0.0
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            m = stop - start
            x = data.chunk(start, stop)
            # sw_buf holds ones, for unweighted data
            sw = self.sw_buf[:m] if weights is None else weights[start:stop]
            z = self.bound.forward(x, m)
            value += self.loss_kernel(
                z,
                data.Y[start:stop],
                sw,
                dtype(1.0 / sw_sum),
                self.bound.output_gradient(m),
            )
            self.bound.backward(x, m)
            if total is not self.trainable_grads:
                if start == 0:
                    total[...] = self.trainable_grads
                else:
                    total += self.trainable_grads
        l2 = self.alpha / sw_sum
        value += penalty_value(self.params, self.network.n_penalized, l2, 0.0)
        add_penalty_gradient(self.params, self.network.n_penalized, dtype(l2), total)
        if self.keep is not None:
            # L-BFGS's directions are combinations of gradients: 0 stays 0
            np.multiply(total, self.keep, out=total)
        return value, total.astype(np.float64)


#: rows of the training data the post-fit divergence check predicts
DIVERGENCE_CHECK_ROWS = 512


def divergence_ratio(job):
    """How many times the fitted model's training loss exceeds that of predicting
    zeros (uniform probabilities, outputs 0), on up to ``DIVERGENCE_CHECK_ROWS``
    rows spread over the data.

    Returns (whether the outputs are finite, the ratio); the ratio is 0 when
    predicting zeros is (near) perfect, as for all-zero targets: then there is no
    scale to diverge from.
    """
    data = job.data
    n_rows = min(data.n_samples, DIVERGENCE_CHECK_ROWS)
    rows = np.linspace(0, data.n_samples - 1, n_rows).astype(np.intp)
    outputs = predict_outputs(
        job.network, job.params, job.state, data.X, rows, job.n_threads
    )
    if not np.all(np.isfinite(outputs)):
        return False, np.inf
    kernel = LOSSES[job.loss][0]
    Y = data.Y[rows]
    sw = np.ones(rows.shape[0], Y.dtype)
    if data.sample_weight is not None:
        sw = data.sample_weight[rows]
    if not sw.sum() > 0:
        return True, 0.0
    scale = Y.dtype.type(1.0 / sw.sum())
    scratch = np.empty_like(outputs)
    loss = kernel(outputs, Y, sw, scale, scratch)
    reference = kernel(np.zeros_like(outputs), Y, sw, scale, scratch)
    if not reference > 1e-6:
        return True, 0.0
    return True, loss / reference
