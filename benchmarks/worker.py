"""One worker process: runs a task file's measurements in this process and writes their JSON.

    python -m benchmarks.worker TASK.json OUT.json [--kcolor-root CHECKOUT]

`benchmarks.launch` writes the task file, starts this module with `KERAS_BACKEND` set and reads the results back.
With `--kcolor-root` the measurements import the `kcolor` package of that checkout (a git revision's worktree,
`benchmarks.worktree`) instead of the working tree's; the harness's own code is always the current one. Every
measurement runs in the active backend only and returns plain JSON-able dicts.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

# Each measurement lives in a module of its own; the names below also stay importable from here.
from benchmarks.colorize import measure_colorize
from benchmarks.fit import measure_fit
from benchmarks.peak import MATMUL_SIZE, backend, measure_peak
from benchmarks.train import measure_train, measure_train_group, prepare_train, xla_cost_flops  # noqa: F401
from benchmarks.upsampling import measure_upsampling, subpixel_kernel, subpixel_upsample  # noqa: F401


def versions():
    """Versions of the libraries that matter for the numbers, and the active backend.

    Returns:
        `{"keras": ..., "tensorflow": ..., "jax": ..., "jaxlib": ..., "numpy": ..., "backend": ...}` (the
        installed ones).
    """
    import importlib.metadata

    found = {}
    for name in ("keras", "tensorflow", "jax", "jaxlib", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    found["backend"] = backend()
    return found


def devices():
    """The devices the active backend computes on, as strings (e.g. `cpu:0`, `/device:CPU:0`)."""
    if backend() == "jax":
        import jax

        return [f"{device.platform}:{device.id} {getattr(device, 'device_kind', '')}".strip()
                for device in jax.devices()]
    import tensorflow as tf

    return [device.name for device in tf.config.list_logical_devices()]


def run_task(task):
    """Runs one task in this process and returns its result.

    Args:
        task: a dict whose `kind` is one of `batch` (its `tasks`, in order), `info`, `flops`, `peak`, `train`,
            `upsampling`, `pipeline`, `colorize` or `fit`; the other keys are that measurement's settings, as
            `benchmarks.run` writes them.

    Returns:
        The measurement's rows (a list or one dict); for `batch`, a list of results.

    Raises:
        ValueError: an unknown `kind`.

    Example:

    ```python
    run_task({"kind": "peak", "repeats": 3, "size": 512})
    ```
    """
    kind = task["kind"]
    if kind == "batch":
        return [run_task(subtask) for subtask in task["tasks"]]
    if kind == "flops":
        from benchmarks.flops import count

        return [count(preset, width, generator_steps=task["generator_steps"]) for preset, width in task["configs"]]
    if kind == "info":
        return {"versions": versions(), "devices": devices()}
    if kind == "peak":
        return measure_peak(task["repeats"], task.get("size", MATMUL_SIZE))
    if kind == "train":
        return measure_train(task["configs"], task["repeats"], task["steps"], task["warmup"])
    if kind == "pipeline":
        from benchmarks.pipeline import run_pipeline_task

        return run_pipeline_task(task)
    if kind == "upsampling":
        return [measure_upsampling(preset, width, batch, xla, task["repeats"])
                for preset, width, batch in task["configs"] for xla in task["xla"]]
    if kind == "colorize":
        return measure_colorize(task["preset"], task["width"], task["megapixels"], task["render_size"], task["repeats"])
    if kind == "fit":
        from benchmarks.pipeline_data import prepare_data
        from kcolor.models import get_preset

        image_size = get_preset(task["config"]["preset"]).image_size
        with tempfile.TemporaryDirectory(prefix="kcolor-bench-") as directory:
            specs, _, _ = prepare_data(directory, image_size, task["images"], task.get("npz"), task.get("photos"),
                                       dataset=task.get("dataset", "sample"))
            return measure_fit(task["config"], specs["npz"][0], task["steps"], task["repeats"])
    raise ValueError(f"unknown task kind {kind!r}; see benchmarks.worker.run_task for the kinds")


def use_kcolor_from(root):
    """Makes this process import `kcolor` from the checkout `root` (before anything has imported it).

    `python -m` puts the working directory first on `sys.path`, ahead of PYTHONPATH, so the checkout is put
    before it here; the harness's own modules, already imported from the working tree, stay as they are.

    Args:
        root: a checkout of the repository (its `kcolor/` folder is the package to measure).

    Raises:
        ValueError: `root` holds no `kcolor` package.
        RuntimeError: `kcolor` was imported already, or still comes from elsewhere.
    """
    root = Path(root).resolve()
    if not (root / "kcolor" / "__init__.py").is_file():
        raise ValueError(f"--kcolor-root {root}: no kcolor package there (expected {root / 'kcolor' / '__init__.py'})")
    if "kcolor" in sys.modules:
        raise RuntimeError(f"kcolor was imported from {sys.modules['kcolor'].__file__} before --kcolor-root applied")
    sys.path.insert(0, str(root))
    import kcolor

    if not Path(kcolor.__file__).resolve().is_relative_to(root):
        raise RuntimeError(f"kcolor comes from {kcolor.__file__}, not from the checkout {root}")


def main(argv=None):
    """The worker's command line: runs a task file, writes its result as JSON, and exits without cleanup.

    Args:
        argv: `TASK.json OUT.json [--kcolor-root CHECKOUT]` (default: the process's arguments).
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__.splitlines()[0])
    parser.add_argument("task", help="JSON file of the task (benchmarks.worker.run_task)")
    parser.add_argument("out", help="where to write the result as JSON")
    parser.add_argument("--kcolor-root", help="measure the kcolor package of this checkout (a git worktree)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.kcolor_root:
        use_kcolor_from(args.kcolor_root)
    task = json.loads(Path(args.task).read_text())
    result = run_task(task)
    Path(args.out).write_text(json.dumps(result))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip destroying what the measurements left alive (tf.data iterators can take seconds each)


if __name__ == "__main__":
    main()
