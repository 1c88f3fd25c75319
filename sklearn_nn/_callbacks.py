"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9) for our fits.

A fit is one root task with one subtask per epoch (sgd / adam) or per iteration
(lbfgs). ``FitTasks`` wraps the callback context of one fit: it is set up before the
fit's rollback snapshot (so that a failed fit's restore keeps it and the callbacks'
teardown still finds it), and every hook gets the model of that moment lazily
(``fitted_estimator``: built only when a callback asks for it). A callback asking to
stop ends training after that epoch, keeping its model. With scikit-learn < 1.9 the
mixin is empty and every method here does nothing.
"""

import copy

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks

    class CallbackSupportMixin:
        """Callbacks need scikit-learn >= 1.9 (``sklearn.callback``)."""


__all__ = ["CallbackSupportMixin", "FitTasks", "model_snapshot"]


def model_snapshot(est, job, copy_arrays=True):
    """``est`` as a fitted estimator with the model of ``job`` at this moment.

    A shallow copy of ``est`` with the model attributes (parameters, state, views)
    set; ``copy_arrays`` copies the buffers, so that training on does not change it.
    """
    fitted = copy.copy(est)
    params, state = job.params, job.state
    if copy_arrays:
        params, state = params.copy(), state.copy()
    fitted.__dict__.update(est._model_attributes(job.network, job.loss, params, state))
    return fitted


class FitTasks:
    """The callback tasks of one fit: the root task and one subtask per epoch.

    Parameters
    ----------
    est : estimator
    max_subtasks : int
        Most epochs (or L-BFGS iterations, plus one) this fit can run.
    """

    def __init__(self, est, max_subtasks):
        self.est = est
        self.root = None
        self._task = None
        self._data = {}
        if hasattr(est, "_init_callback_context"):
            self.root = est._init_callback_context(max_subtasks=max_subtasks)
        # no callback set (nor propagated): epochs skip the hooks entirely
        self.active = self.root is not None and bool(
            getattr(est, "_skl_callbacks", None)
        )

    def begin_fit(self, X, y, sample_weight):
        """The root task begins, on the validated training data."""
        if self.root is None:
            return
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._data = {"X": X, "y": y, "metadata": metadata}
        self.root.call_on_fit_task_begin(estimator=self.est, **self._data)

    def end_fit(self):
        """The root task ends; the estimator is fitted."""
        if self.root is not None:
            self.root.call_on_fit_task_end(
                estimator=self.est, reconstruction_attributes={}, **self._data
            )

    def begin_epoch(self, job, name="epoch"):
        """An epoch (or iteration) task begins, from the current model."""
        if not self.active:
            return
        self._task = self.root.subcontext(task_name=name)
        self._task.call_on_fit_task_begin(
            estimator=self.est,
            reconstruction_attributes=self._attributes(job),
            **self._data,
        )

    def end_epoch(self, job):
        """The task ends with the current model; True if a callback asks to stop."""
        if not self.active or self._task is None:
            return False
        task, self._task = self._task, None
        return task.call_on_fit_task_end(
            estimator=self.est,
            reconstruction_attributes=self._attributes(job),
            **self._data,
        )

    def close_epoch(self):
        """End a task that began but never ran (the one after L-BFGS's last step)."""
        if self.active and self._task is not None:
            task, self._task = self._task, None
            task.call_on_fit_task_end(estimator=self.est)

    def _attributes(self, job):
        # evaluated only if a callback asks for fitted_estimator
        def attributes():
            params, state = job.params.copy(), job.state.copy()
            return self.est._model_attributes(job.network, job.loss, params, state)

        return attributes
