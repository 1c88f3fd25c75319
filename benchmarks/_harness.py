"""What the benchmark scripts share: timing, interleaving, threads, machine, tables.

``bench_*.py`` import it as ``from _harness import ...`` (a script's directory is
first on ``sys.path``). It puts this checkout first on ``sys.path`` too, so that the
scripts measure its ``sklearn_nn``, and imports only numpy and threadpoolctl.
"""

import argparse
import gc
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

#: Variables that make a current OpenBLAS use a slower kernel; unset them for a run.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ADVICE = "Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, on an idle machine."
#: Other processes' load (cores) above which a measurement is flagged as disturbed.
LOAD_WARNING = 0.25
LARGE_GEMM = ("large", 2048, 2048, 2048, False)


def log(message):
    """Print a progress message to stderr."""
    print(message, file=sys.stderr, flush=True)


def timed(fn, *args, **kwargs):
    """``(seconds, result)`` of one call ``fn(*args, **kwargs)``, after a gc."""
    gc.collect()
    tic = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - tic, result


def rows_per_second(predict_proba, model, X, n_classes):
    """Rows per second of one ``predict_proba(model, X)``, its output shape checked."""
    seconds, proba = timed(predict_proba, model, X)
    if proba.shape != (X.shape[0], n_classes):
        raise RuntimeError(f"predict_proba returned shape {proba.shape}")
    return X.shape[0] / seconds


def round_robin(tasks, repeat, errors):
    """Run each task once per round, ``repeat`` rounds, the tasks interleaved.

    ``tasks`` maps a name to a function of no argument returning one measurement.
    Returns ``{name: [measurements]}``; a task that raises is dropped, its list left
    empty and its error in ``errors[name]``.
    """
    samples = {name: [] for name in tasks}
    for _ in range(repeat):
        for name, task in tasks.items():
            if name in errors:
                continue
            try:
                samples[name].append(task())
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {exc}"
                samples[name] = []
                log(f"  {name} failed: {errors[name]}")
    return samples


def interleaved(tasks, repeat, errors, loads, key, warmup_rounds=0):
    """`round_robin` after ``warmup_rounds`` untimed rounds, `other_load` in ``key``."""
    round_robin(tasks, warmup_rounds, errors)
    with other_load(loads, key):
        return round_robin(tasks, repeat, errors)


@contextmanager
def limit_threads(n_threads):
    """Limit BLAS, OpenMP, Numba and (if imported) torch to ``n_threads`` threads.

    sklearn_nn's own kernel threads follow the BLAS limit (threadpoolctl).
    """
    import numba

    torch = sys.modules.get("torch")
    before = numba.get_num_threads(), torch and torch.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    if torch is not None:
        torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        numba.set_num_threads(before[0])
        if torch is not None:
            torch.set_num_threads(before[1])


def import_torch(notes=None):
    """The ``torch`` module, or None when it cannot be imported (noted in ``notes``)."""
    try:
        import torch
    except Exception:  # ImportError, or OSError from a broken native library
        if notes is not None:
            notes.append("torch is not importable: the PyTorch peer was skipped.")
            log("NOTE: torch is not importable; skipping the PyTorch peer.")
        return None
    return torch


def child_env(**extra):
    """Environment of a child process: this checkout first on PYTHONPATH, ``extra``."""
    paths = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(os.environ, **extra, PYTHONPATH=os.pathsep.join(paths))


def run_child(args, env, cwd=REPO_ROOT, timeout=1800):
    """The JSON of the last stdout line of a new ``python *args``, or ``{"error"}``.

    ``/bin/sh`` forks the interpreter: one exec'd straight from this process would
    inherit its RSS high-water mark as ``ru_maxrss`` (Linux keeps it across exec).
    """
    command = [sys.executable, *args]
    if Path("/bin/sh").exists():
        command = ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command]
    pipe, new_session = subprocess.PIPE, {"start_new_session": True}
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=pipe, stderr=pipe, text=True, **new_session
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"error": f"timed out after {timeout} s"}
    lines = stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = " ".join(stderr.strip().splitlines()[-3:])
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


def _cpu_seconds():
    """``(wall, busy, own)`` seconds: the machine's busy time, this process's CPU."""
    try:  # cpu: user nice system idle iowait irq softirq steal
        with open("/proc/stat") as stat:
            ticks = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return time.perf_counter(), busy, sum(os.times()[:4])


@contextmanager
def other_load(loads, key):
    """Set ``loads[key]`` to the cores other processes used while the block ran.

    The cores busy with other processes or stolen by the hypervisor (/proc/stat;
    None without it). On 2 cores, threads wait at barriers for a descheduled peer:
    a multi-threaded measurement is unreliable when another process is busy.
    """
    start = _cpu_seconds()
    yield
    end, loads[key] = _cpu_seconds(), None
    if start is not None and end is not None and end[0] > start[0]:
        wall, busy, own = (b - a for a, b in zip(start, end, strict=True))
        loads[key] = max(0.0, (busy - own) / wall)


def load_notes(loads):
    """Notes on the measurements (keys of ``loads``) that other processes disturbed."""
    disturbed = {k: c for k, c in loads.items() if c is not None and c > LOAD_WARNING}
    if not disturbed:
        return []
    where = ", ".join(f"{' '.join(map(str, k))}: {c:.2f}" for k, c in disturbed.items())
    return [
        f"Other processes kept more than {LOAD_WARNING} core busy during some "
        f"measurements ({where}); their multi-threaded numbers are unreliable: "
        "threads wait at barriers for a descheduled peer. Rerun on an idle machine."
    ]


def gemm_seconds(gemm, budget, n_timings=5):
    """Median seconds of one float32 numpy matmul ``(m, k) @ (k, n)``.

    ``gemm`` is ``(role, m, k, n, transpose_a)``; ``transpose_a``: the left operand
    is a transposed (F-ordered) view, as in the weight-gradient GEMM ``X.T @ delta``.
    About ``budget`` seconds are spent, in ``n_timings`` timings of enough calls.
    """
    _, m, k, n, transpose_a = gemm
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if transpose_a else (m, k), dtype=np.float32)
    a = a.T if transpose_a else a
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), dtype=np.float32)

    def run(calls):
        tic = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        return time.perf_counter() - tic

    run(1)
    calls, target = 1, budget / n_timings
    while (elapsed := run(calls)) < target / 2:
        calls = max(2 * calls, int(calls * target / max(elapsed, 1e-9)))
    return median([run(calls) / calls for _ in range(n_timings)])


def gflops(gemms, seconds):
    """GFLOP/s of ``(role, m, k, n, transpose_a)`` GEMMs taken together."""
    flops = sum(2.0 * m * k * n for _, m, k, n, _ in gemms)
    return flops / sum(seconds[gemm] for gemm in gemms) / 1e9


def bench_gemm(gemm_sets, thread_counts, budget, loads):
    """numpy float32 GEMM throughput at each thread count: the BLAS ceiling.

    ``gemm_sets`` maps a key to ``(label, [(role, m, k, n, transpose_a)])``, each GEMM
    timed once (`gemm_seconds`). Returns ``{threads: {key: GFLOP/s}}`` (a set's total
    FLOPs over its total time); ``loads[("gemm", threads)]``: `other_load`.
    """
    results = {}
    for threads in thread_counts:
        log(f"GEMM ceiling: {threads} thread(s)")
        unique = dict.fromkeys(g for _, gemms in gemm_sets.values() for g in gemms)
        with limit_threads(threads), other_load(loads, ("gemm", threads)):
            seconds = {gemm: gemm_seconds(gemm, budget) for gemm in unique}
        results[threads] = {k: gflops(g, seconds) for k, (_, g) in gemm_sets.items()}
    return results


def gemm_section(gemm, gemm_sets, loads):
    """The table of the `bench_gemm` results ``gemm`` of ``gemm_sets``."""
    sets = gemm_sets.items()
    body = [[label] + [fmt(gemm[t][k], ".1f") for t in gemm] for k, (label, _) in sets]
    load = ["other load (cores)", *(fmt(loads.get(("gemm", t)), ".2f") for t in gemm)]
    table = markdown_table(["GEMM", *(f"{t} thread(s)" for t in gemm)], [*body, load])
    return ["## numpy float32 GEMM ceiling (GFLOP/s)", "", *table]


def median(values):
    """Median of a list, NaN for an empty one."""
    return statistics.median(values) if values else float("nan")


def fmt(value, spec=".3g"):
    """Format a number for the report; None and NaN read "n/a"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return format(value, spec)


def fmt_samples(values, spec=".3g"):
    """The median of measurements, with their range when there are several."""
    if not values:
        return "n/a"
    text = fmt(median(values), spec)
    if len(values) > 1:
        text += f" ({fmt(min(values), spec)}-{fmt(max(values), spec)})"
    return text


def ratio(numerator, denominator):
    """Ratio of the medians of two lists of measurements, NaN if either is empty."""
    if not numerator or not denominator:
        return float("nan")
    return median(numerator) / median(denominator)


def markdown_table(headers, rows, align=None):
    """A markdown table as a list of lines; ``align``: "l" or "r" per column."""
    rules = ["---:" if a == "r" else "---" for a in align or "l" * len(headers)]
    return ["| " + " | ".join(map(str, r)) + " |" for r in [headers, rules, *rows]]


def cpu_model():
    """The CPU model name from /proc/cpuinfo."""
    with suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_revision():
    """Commit of this checkout, "+dirty" when tracked files have changes."""
    command = ["git", "describe", "--always", "--dirty=+dirty", "--exclude=*"]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def machine_info(extra=""):
    """Machine, versions and BLAS / OpenMP libraries, as lines; ``extra`` ends one."""
    import numba
    import scipy
    import scipy.linalg.cython_blas  # noqa: F401  (loads scipy's OpenBLAS)
    import sklearn
    import threadpoolctl

    try:
        import sklearn_nn
    except Exception as exc:
        ours = f"not importable ({type(exc).__name__})"
    else:
        ours = f"{sklearn_nn.__version__} from {Path(sklearn_nn.__file__).parent}"
    torch, torch_version = import_torch(), "not installed"
    if torch is not None:
        onednn = "on" if torch.backends.mkldnn.is_available() else "off"
        torch_version = f"{torch.__version__} (oneDNN {onednn})"
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    overrides = [f"{v}={os.environ.get(v, 'unset')}" for v in OPENBLAS_OVERRIDES]
    keys = "user_api internal_api version architecture threading_layer num_threads"
    rows = [
        [info.get(key) or "" for key in keys.split()] + [Path(info["filepath"]).name]
        for info in threadpool_info()
    ]
    return [
        f"- CPU: {cpu_model()}; nproc {os.cpu_count()} (usable {usable}); "
        f"memory {memory:.1f} GiB",
        f"- load average at start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}, numba "
        f"{numba.__version__} (NUMBA_NUM_THREADS {numba.config.NUMBA_NUM_THREADS}), "
        f"torch {torch_version}, threadpoolctl {threadpoolctl.__version__}",
        f"- sklearn_nn {ours} (git {git_revision()})",
        f"- {', '.join(overrides)}{extra}",
        "",
        "BLAS and OpenMP libraries (threadpoolctl):",
        "",
        *markdown_table(
            "API library version kernel threading threads file".split(), rows
        ),
    ]


def run_parser(description, quick_help, repeat=True):
    """Argument parser with ``--quick``, ``--out`` and (``repeat``) ``--repeat``."""
    parser = argparse.ArgumentParser(description=f"{description} {ADVICE}")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    if repeat:
        help_ = "round-robin repeats (default 3; 1 with --quick)"
        parser.add_argument("--repeat", type=int, help=help_)
    return parser


class Run:
    """One run of a script, from `run_parser`'s ``args``; it prints the report.

    It holds the report's ``notes``, ``errors`` (tuple key, where, to a failed
    measurement's message), ``loads`` (`other_load`) and ``repeat``; it warns when
    an `OPENBLAS_OVERRIDES` variable is set.
    """

    def __init__(self, args):
        self.args, self.started = args, time.perf_counter()
        self.notes, self.errors, self.loads = [], {}, {}
        self.repeat = max(1, getattr(args, "repeat", None) or (1 if args.quick else 3))
        overrides = ", ".join(v for v in OPENBLAS_OVERRIDES if v in os.environ)
        warning = f"WARNING: {overrides} set: OpenBLAS may use a slower kernel."
        if overrides:
            self.notes.append(f"{warning} {ADVICE}")
            log(self.notes[-1])

    def report(self, title, machine, sections, quick=""):
        """Print the report, write it to ``--out``; 1 if a measurement failed, else 0.

        ``sections``: lists of lines; ``quick``: the sizes of a ``--quick`` run.
        """
        banner = [f"**--quick smoke test: {quick}; not a benchmark.**", ""]
        lines = [f"# {title}", "", *(banner if self.args.quick else [])]
        lines += ["## Machine", "", *machine, ""]
        lines += [line for section in sections for line in (*section, "")]
        errors = (
            f"error ({', '.join(map(str, k))}): {m}" for k, m in self.errors.items()
        )
        seconds = time.perf_counter() - self.started
        notes = [*self.notes, *errors, f"run time: {seconds:.0f} s"]
        notes += [f"repository: {REPO_ROOT}", *load_notes(self.loads)]
        loadavg = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        lines += [f"Load average at end: {loadavg}", "", "## Notes", ""]
        text = "\n".join(lines + [f"- {note}" for note in notes]) + "\n"
        print(text)
        if self.args.out is not None:
            self.args.out.write_text(text)
            log(f"report written to {self.args.out}")
        return 1 if self.errors else 0
