"""Running worker tasks: each list of tasks in a fresh `python -m benchmarks.worker` process, or in this one.

A fresh process per Keras backend is how one run measures both backends; a process given another kcolor checkout
(`kcolor_root`, from `benchmarks.worktree`) is how an A/B run measures a git revision as it was.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def worker_command(task_path, out_path, kcolor_root=None):
    """The command line of one worker process.

    Args:
        task_path: the JSON file of the task to run.
        out_path: where the worker writes its JSON result.
        kcolor_root: a checkout whose `kcolor` package the worker measures (default: the working tree's).

    Returns:
        The command as a list of arguments, run with the repository root as working directory.

    Example:

    ```python
    worker_command("task.json", "out.json", "/tmp/kcolor-revision-x/checkout")
    # [sys.executable, '-m', 'benchmarks.worker', 'task.json', 'out.json', '--kcolor-root', '/tmp/...']
    ```
    """
    command = [sys.executable, "-m", "benchmarks.worker", str(task_path), str(out_path)]
    return command + (["--kcolor-root", str(kcolor_root)] if kcolor_root else [])


def worker_env(backend, kcolor_root=None):
    """The environment of a worker process: this one's, with `KERAS_BACKEND` and the checkouts on PYTHONPATH.

    Args:
        backend: the Keras backend the worker measures with.
        kcolor_root: the checkout whose `kcolor` the worker imports; it comes first on PYTHONPATH, before the
            repository that holds `benchmarks/` (the worker also puts it first on `sys.path` itself, since
            `python -m` puts the working directory before PYTHONPATH).

    Returns:
        A dict for `subprocess.run(env=...)`.
    """
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    paths = [str(kcolor_root) if kcolor_root else None, str(REPOSITORY), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def run_tasks(tasks, backend, in_process=False, timeout=None, kcolor_root=None):
    """Runs worker tasks one process each, or in this process; returns their results in order.

    A task that fails gives `{"error": message, "kind": ..., "backend": ...}` instead of its result, so that one
    failing measurement does not lose the others.

    Args:
        tasks: task dicts (`benchmarks.worker.run_task` lists the kinds).
        backend: the Keras backend of the worker processes.
        in_process: run in this process, with its backend (quick runs and tests); ignored for `kcolor_root`.
        timeout: seconds per worker process.
        kcolor_root: a checkout (`benchmarks.worktree.Checkout.path`) whose `kcolor` the workers measure; such
            tasks always run in a fresh process.

    Returns:
        One result per task.

    Example:

    ```python
    (info,) = run_tasks([{"kind": "info"}], "jax")
    info["versions"]["jax"]
    ```
    """
    if in_process and not kcolor_root:
        from benchmarks.worker import run_task

        return [run_task(task) for task in tasks]
    results = []
    for task in tasks:
        with tempfile.TemporaryDirectory(prefix="kcolor-bench-") as directory:
            task_path, out_path = Path(directory) / "task.json", Path(directory) / "out.json"
            task_path.write_text(json.dumps(task))
            completed = subprocess.run(
                worker_command(task_path, out_path, kcolor_root), cwd=REPOSITORY, env=worker_env(backend, kcolor_root),
                timeout=timeout, capture_output=True, text=True,
            )  # fmt: skip
            if completed.returncode != 0 or not out_path.exists():
                message = (completed.stderr or completed.stdout)[-3000:]
                print(f"[{backend}] {task['kind']} failed:\n{message}", file=sys.stderr)
                results.append({"error": message, "kind": task["kind"], "backend": backend})
            else:
                results.append(json.loads(out_path.read_text()))
    return results


def run_tasks_in_one(tasks, backend, in_process=False, timeout=None, kcolor_root=None):
    """Runs several tasks in one worker process, so that they share its warm-up; returns their results.

    Args:
        tasks: task dicts, run in order.
        backend, in_process, timeout, kcolor_root: as for `run_tasks`.

    Returns:
        One result per task; if the process failed, its error dict for every task.
    """
    batch = {"kind": "batch", "tasks": tasks}
    results = run_tasks([batch], backend, in_process=in_process, timeout=timeout, kcolor_root=kcolor_root)[0]
    if isinstance(results, dict) and "error" in results:
        return [results for _ in tasks]
    return results
