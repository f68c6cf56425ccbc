"""A/B runs against a git revision: the working tree and the revision's checkout, in alternating worker processes.

The revision is checked out in a temporary worktree (`benchmarks.worktree`) and measured there by the current
worker in processes of its own (`benchmarks.launch`), round by round: working tree, revision, working tree,
revision, ... Each round is a fresh process, so neither version ever runs the other's code; the rounds' repeats
are pooled per row. How to read such a comparison: benchmarks/README.md#ab-runs-against-a-git-revision.
"""

import statistics

from benchmarks.launch import REPOSITORY, run_tasks
from benchmarks.timing import summarize
from benchmarks.worktree import checkout

WORKING_TREE = "working tree"
TRAIN_KEY = ("implementation", "preset", "width", "batch", "xla", "precision", "generator_steps")
PIPELINE_KEY = ("source", "path", "version", "image_size", "batch")


def alternate(tasks, revision, backend, rounds=2, repository=REPOSITORY, in_process=False, timeout=None):
    """Runs a task of the working tree and one of `revision` in turn, `rounds` times each, one process per run.

    Args:
        tasks: `{"working tree": task, revision: task}`: what each version measures.
        revision: the git revision to compare with (checked out for the duration of the call).
        backend: the Keras backend of the worker processes.
        rounds: runs per version, alternating working tree, revision, working tree, ...
        repository: the git repository `revision` belongs to (default: the one that holds `benchmarks/`).
        in_process: run the working tree's task in this process (the revision's always runs in its own).
        timeout: seconds per worker process.

    Returns:
        `(commit, results)`: the revision's full hash, and `{label: [result of each round]}`.

    Raises:
        ValueError: `revision` names no commit of `repository`.

    Example:

    ```python
    commit, results = alternate({"working tree": task, "HEAD": task}, "HEAD", "tensorflow", rounds=2)
    len(results["HEAD"])  # 2
    ```
    """
    if rounds < 1:
        raise ValueError(f"an A/B run needs at least one round per version, got rounds={rounds}")
    results = {WORKING_TREE: [], revision: []}
    with checkout(revision, repository) as old:
        for _ in range(rounds):
            results[WORKING_TREE] += run_tasks([tasks[WORKING_TREE]], backend, in_process=in_process, timeout=timeout)
            results[revision] += run_tasks([tasks[revision]], backend, timeout=timeout, kcolor_root=old.path)
    return old.commit, results


def _median(values):
    values = [value for value in values if value is not None]
    return float(statistics.median(values)) if values else None


def merge_rounds(results, key, medians=()):
    """One row per key from the rows of several rounds: repeats pooled, the other numbers' median taken.

    Args:
        results: the result of each round: a list of rows, or an error dict (a process that failed).
        key: the row fields that name one measurement (e.g. `PIPELINE_KEY`).
        medians: fields whose median over the rounds the merged row gets (e.g. `setup_s`).

    Returns:
        The merged rows in order of first appearance, each with `rounds`: the rows merged into it. Every
        summary (`benchmarks.timing.summarize`) holds all rounds' values, a true/false field is true if it was
        in every round; other fields are the first round's.
        A measurement that failed in every round keeps its first error row; a failed process gives its error.

    Example:

    ```python
    rows = merge_rounds([[row_round_1], [row_round_2]], PIPELINE_KEY, medians=("setup_s",))
    rows[0]["rounds"]  # 2
    ```
    """
    groups, errors = {}, []
    for result in results:
        if isinstance(result, dict):  # the whole process failed
            errors.append(result)
            continue
        for row in result:
            groups.setdefault(tuple(row.get(field) for field in key), []).append(row)
    merged = []
    for rows in groups.values():
        good = [row for row in rows if "error" not in row]
        if not good:
            merged.append(rows[0])
            continue
        row = dict(good[0])
        for name, value in good[0].items():
            if isinstance(value, dict) and "values" in value:
                row[name] = summarize([item for other in good for item in other[name]["values"]])
            elif name in medians:
                row[name] = _median([other.get(name) for other in good])
            elif isinstance(value, bool):  # e.g. `finite`: true only if every round's was
                row[name] = all(other.get(name) for other in good)
        row["rounds"] = sum(other.get("rounds", 1) for other in good)
        merged.append(row)
    return merged + errors[:1]


def train_ab(task, revision, backend, rounds=2, repository=REPOSITORY, in_process=False, timeout=None):
    """The train task of an A/B run: the working tree's configurations and the revision's, alternating.

    Args:
        task: a worker `train` task whose configurations include the revision's (`steps_revision` set,
            implementation `kcolor@REV`: `benchmarks.run.train_configs`); the reference and the working tree's
            rows run in the working tree's processes, the revision's in its checkout's.
        revision, backend, rounds, repository, in_process, timeout: as for `alternate`.

    Returns:
        `(commit, rows)`: the revision's hash and one train row per configuration, in the task's order.
    """
    configs = task["configs"]
    tasks = {WORKING_TREE: dict(task, configs=[config for config in configs if not config.get("steps_revision")]),
             revision: dict(task, configs=[config for config in configs if config.get("steps_revision")])}
    commit, results = alternate(tasks, revision, backend, rounds, repository, in_process, timeout)
    rows = merge_rounds(results[WORKING_TREE] + results[revision], TRAIN_KEY, medians=("compile_s",))
    for row in rows:
        if "error" not in row:
            flops = row.get("flops_per_image")
            row["gflops_per_second"] = None if flops is None else row["images_per_second"]["median"] * flops / 1e9
    order = [tuple(config.get(field) for field in TRAIN_KEY) for config in configs]
    rows.sort(key=lambda row: order.index(_key(row, TRAIN_KEY)) if _key(row, TRAIN_KEY) in order else len(order))
    return commit, rows


def pipeline_ab(task, revision, backend, repository=REPOSITORY, in_process=False, timeout=None):
    """The pipeline task of an A/B run: every pipeline built by the working tree and by the revision, alternating.

    Args:
        task: a worker `pipeline` task; its `rounds` become the A/B's rounds (one pipeline build per process).
        revision, backend, repository, in_process, timeout: as for `alternate`.

    Returns:
        `(commit, rows)`: the revision's hash and the pipeline rows of both versions (`version` tells them
        apart), each version's row right after the working tree's.
    """
    rounds = task.get("rounds", 2)
    tasks = {WORKING_TREE: dict(task, rounds=1, version=WORKING_TREE), revision: dict(task, rounds=1, version=revision)}
    commit, results = alternate(tasks, revision, backend, rounds, repository, in_process, timeout)
    rows = merge_rounds(results[WORKING_TREE] + results[revision], PIPELINE_KEY,
                        medians=("setup_s", "first_pass_images_per_second", "first_pass_images_per_cpu_second"))
    shapes = []
    for row in rows:
        shape = (row.get("image_size"), row.get("batch"), row.get("source"), row.get("path"))
        if shape not in shapes:
            shapes.append(shape)
    versions = [WORKING_TREE, revision]

    def position(row):
        shape = shapes.index((row.get("image_size"), row.get("batch"), row.get("source"), row.get("path")))
        return shape, versions.index(row["version"]) if row.get("version") in versions else len(versions)

    return commit, sorted(rows, key=position)


def _key(row, fields):
    return tuple(row.get(field) for field in fields)
