"""Shared pytest fixtures: quiet TensorFlow, small real photos, and running code in a fresh interpreter."""

import contextlib
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


# Prepended to the code of the background jobs that train with TensorFlow in a Python of their own (the recipe
# check, the full-mode course runs, the distribution comparison and the two workers): Grappler off, as in the test
# process (below); 1.4 s of the recipe check's 33 s on one core. The `kcolor` commands and the notebooks run as
# users run them.
NO_GRAPH_OPTIMIZER = (
    "import tensorflow as tf\ntf.config.optimizer.set_experimental_options({'disable_meta_optimizer': True})\n"
)


@pytest.fixture(scope="session", autouse=True)
def _no_graph_optimizer_in_the_test_process():
    """TensorFlow's graph optimizer (Grappler) is off in the test process, as XLA optimises at level 0 (root
    conftest.py): for the tests' tiny networks, optimising each traced function costs more than it saves
    (test_gan, test_training, test_callbacks and test_evaluation_judge took 76 s instead of 87 s on one core of
    the 2-vCPU Zen 4), and what the tests check is kcolor's code. The `kcolor` commands and the notebooks keep
    TensorFlow's default. KCOLOR_TEST_GRAPPLER=1 keeps it on here too."""
    if os.environ.get("KCOLOR_TEST_GRAPPLER") != "1" and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        try:
            exec(NO_GRAPH_OPTIMIZER, {})
        except ImportError:  # no TensorFlow: nothing to turn off
            pass


# Prepended to code run by `run_python(..., block_tensorflow=True)`: any import of TensorFlow fails, as on
# a machine where it is not installed.
BLOCK_TENSORFLOW = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow.") or name.startswith("tensorflow_"):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None
sys.meta_path.insert(0, _NoTensorFlow())
"""


def subprocess_env(backend="tensorflow", env=None):
    """The environment of a test's subprocess: this one's, `KERAS_BACKEND=backend` and `env`.

    `XLA_FLAGS` in `env` is added to the inherited flags instead of replacing them, so a flag that the whole run
    sets (e.g. `--xla_cpu_max_isa`, root conftest.py) reaches every subprocess.
    """
    env = dict(env or {})
    if "XLA_FLAGS" in env:
        env["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {env['XLA_FLAGS']}".strip()
    return dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **env)


def run_python_code(code, backend="tensorflow", block_tensorflow=False, timeout=300, env=None):
    """Runs `code` in a fresh Python with `KERAS_BACKEND=backend`; returns the completed process."""
    source = textwrap.dedent(code)
    if block_tensorflow:
        source = BLOCK_TENSORFLOW + source
    full_env = subprocess_env(backend, env)
    result = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, env=full_env
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture
def run_python():
    return run_python_code


@pytest.fixture(autouse=True)
def _cpu_without_bfloat16(monkeypatch):
    """Under `KCOLOR_TEST_MAX_ISA` (root conftest.py), `kcolor.devices` sees a CPU without native bfloat16."""
    if os.environ.get("KCOLOR_TEST_MAX_ISA"):
        from kcolor import devices

        flags = devices.cpu_has_bfloat16

        def without_bfloat16(cpuinfo="/proc/cpuinfo"):
            return False if cpuinfo == "/proc/cpuinfo" else flags(cpuinfo)  # a test's own file is still read

        monkeypatch.setattr(devices, "cpu_has_bfloat16", without_bfloat16)


def skip_if_simulation_breaks_tensorflow_bfloat16():
    """Skips the calling test where `KCOLOR_TEST_MAX_ISA` caps oneDNN below AVX-512 on a CPU that has it.

    TensorFlow sends bfloat16 convolutions and products to oneDNN whenever the CPU has AVX512F, and oneDNN, capped
    at AVX2, then cannot create them ("could not create a primitive descriptor"). A real AVX2 CPU has no
    AVX512F, so TensorFlow runs them with its own kernels there; the simulation cannot show that.
    """
    if simulation_breaks_tensorflow_bfloat16():
        isa = os.environ["KCOLOR_TEST_MAX_ISA"].upper()
        pytest.skip(f"KCOLOR_TEST_MAX_ISA={isa}: oneDNN cannot run the bfloat16 ops TensorFlow gives it here")


def simulation_breaks_tensorflow_bfloat16(backend=None):
    """Whether `skip_if_simulation_breaks_tensorflow_bfloat16` skips (for `backend`, by default Keras's)."""
    isa = os.environ.get("KCOLOR_TEST_MAX_ISA", "").upper()
    if backend is None:
        import keras

        backend = keras.backend.backend()
    return bool(isa) and not isa.startswith("AVX512") and backend == "tensorflow"


def photo_crops(size=32, count=8, seed=0):
    """`count` random `size`-pixel crops of color photos that scikit-image ships (uint8 RGB)."""
    from skimage import data
    from skimage.transform import resize

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)]
        # Downscale first so a small crop still shows a recognisable region.
        small = (resize(photo, (photo.shape[0] // 4, photo.shape[1] // 4), anti_aliasing=True) * 255).astype(np.uint8)
        top = rng.integers(0, small.shape[0] - size + 1)
        left = rng.integers(0, small.shape[1] - size + 1)
        crops.append(small[top : top + size, left : left + size])
    return np.stack(crops)


@pytest.fixture(scope="session")
def photos():
    return photo_crops()


# ---------------------------------------------------------------------------------------------------------------
# The command line, training and reliability tests: running `kcolor` as a user does, and one tiny trained run.

# A run that takes seconds on a CPU: 12 steps in 2 epochs of a 1/8-width model on 16 px crops of the `sample`
# photos, deterministic, checkpointing every 2 steps. test_reliability resumes a killed copy of it and
# compares the weights bit for bit, so both must use exactly these options.
TINY_TRAIN_OPTIONS = (
    "--dataset", "sample", "--width-multiplier", "0.125", "--image-size", "16", "--batch-size", "8",
    "--steps-per-epoch", "6", "--epochs", "2", "--checkpoint-every", "2", "--no-jit", "--deterministic",
    "--verbose", "0",
)  # fmt: skip


def process_env(extra=None):
    """This environment with TensorFlow's C++ logs quiet, `KERAS_BACKEND` tensorflow unless set, and `extra` (a
    value of None removes its variable)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env.setdefault("KERAS_BACKEND", "tensorflow")
    return env


def start_process(command, log_to=None, env=None):
    """Starts `command`; returns the `Popen`.

    Its output goes to pipes, or with `log_to` to the files `log_to.stdout` and `log_to.stderr` (for a process that
    nobody reads from while it runs: a full pipe would stop it). Its environment is `env`, by default
    `process_env()`.
    """
    if env is None:
        env = process_env()
    if log_to is None:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    paths = (f"{log_to}.stdout", f"{log_to}.stderr")
    with open(paths[0], "w") as stdout, open(paths[1], "w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, env=env)
    process.log_paths = paths
    return process


def start_kcolor(*arguments, console_script=False, python_prefix=None, log_to=None, env=None):
    """Starts `kcolor ARGUMENTS` in a fresh process without waiting for it; returns the `Popen`.

    Args:
        arguments: Command-line arguments after `kcolor`.
        console_script: Run the installed `kcolor` script next to the interpreter instead of `python -m kcolor`.
        python_prefix: Python code to run before `kcolor.cli.main` (e.g. to install a test hook).
        log_to: See `start_process`.
        env: Variables to add to `process_env()`.
    """
    command = [sys.executable, "-m", "kcolor"]
    if console_script:
        command = [str(Path(sys.executable).with_name("kcolor"))]
    elif python_prefix:
        code = python_prefix + "\nimport sys\nfrom kcolor.cli import main\nsys.exit(main(sys.argv[1:]))\n"
        command = [sys.executable, "-c", code]
    return start_process([*command, *map(str, arguments)], log_to=log_to, env=process_env(env))


def finish(process, timeout=300):
    """Waits for a `start_process` process: a `CompletedProcess` with its exit status and output. Meanwhile the
    background jobs may use every CPU (`JobQueue.waiting`)."""
    with JOBS.waiting():
        if hasattr(process, "log_paths"):
            process.wait(timeout=timeout)
            stdout, stderr = (open(path).read() for path in process.log_paths)
        else:
            stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# Run in the process that test_reliability kills: SIGKILL in the middle of the second checkpoint save (global step
# 4, in the middle of epoch 1), when the new checkpoint folder is complete on disk but state.json does not name
# it yet. The checkpoint of step 2 must survive and the resumed run must end exactly as the reference.
KILL_DURING_SECOND_CHECKPOINT = """
import os, signal
_replace, _state_saves = os.replace, []
def _replace_or_die(source, target):
    if str(target).endswith("state.json"):
        _state_saves.append(target)
        if len(_state_saves) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    return _replace(source, target)
os.replace = _replace_or_die
"""


# The regression check of the training recipe (test_training.py, where its margins are measured): kcolor's
# defaults scaled down to a short CPU run, 6 epochs (4 of L1 warm-up, 2 of the GAN game) of a 1/4-width model on
# 32 px crops of the offline sample photos, batch 32.
RECIPE_CHECK = dict(dataset="sample", image_size=32, width_multiplier=0.25, epochs=6, verbose=0, checkpoint_every=0)


# ---------------------------------------------------------------------------------------------------------------
# Background jobs: the suite's longest subprocess work (training runs, the commands after them, the JAX checks, the
# distribution comparisons) runs on the second core while pytest runs the in-process tests on the first. One pytest
# process keeps about one core busy (most tests are short TensorFlow calls); a second pytest process (pytest-xdist)
# was measured no faster, as both then compete for the same two cores, and so were background jobs free to use both
# cores (they slowed the in-process tests as much as they saved: TensorFlow splits an op across its threads, and an
# op waits for its slowest part). So: a queue, on half the CPUs (the session runs on the other half: root
# conftest.py). When collection ends, every job that a selected test needs is queued, the longest first (the
# session waits for the last job to end, so that one should be short), and two lanes (threads) start them, each
# lane one job at a time (a job may be several processes that run together), their CPU affinity set to the upper
# half of the CPUs (TensorFlow and XLA size their thread pools by it, so each job process computes on about one
# thread). While the session waits for a job (`finish`), every running job may use every CPU: the session's half
# would idle otherwise, and with two lanes there is more than one process to run there. When the wait ends, they go
# back to the upper half. (One lane, with only the awaited job widened, in the order of the jobs' first users, left
# the session's core idle for 46 s of a 258-s run: a job sized for one thread cannot use a second core.) Jobs write
# their output to files: nobody reads a pipe while they run.
LANES = 2


class Job:
    """A registered background job: `start(folder, users)` starts its processes and returns `(handle, processes)`;
    `users` are the selected tests that need it (empty: not known, start everything); `seconds`, about how long it
    takes alone on one core (it orders the queue)."""

    def __init__(self, name, start, is_user, seconds):
        self.name, self.start, self.is_user, self.seconds = name, start, is_user, seconds
        self.handle, self.processes, self.users = None, [], []
        self.lock = threading.Lock()


class JobQueue:
    """Starts registered jobs in the background, `LANES` at a time; `get(name)` returns a job's handle."""

    def __init__(self):
        self.jobs = {}
        self.lock = threading.Lock()
        self.folder_factory = None
        self.threads = []
        self.pending = []
        self.stopping = threading.Event()
        self.waits = 0  # how many `waiting()` blocks of the session's thread are open (nested: `finish` in `finish`)

    def register(self, name, start, is_user, seconds):
        """Registers job `name` (at import time); `is_user(item)` says whether a collected test needs it;
        `seconds`: its wall time alone on one core of the 2-vCPU Zen 4 (docs/TESTING.md), for the queue's order."""
        self.jobs[name] = Job(name, start, is_user, seconds)

    def _start(self, job):
        with self.lock:
            if self.folder_factory is None:  # the queue did not run (a test started otherwise)
                self.folder_factory = _JobFolders()
        with job.lock:  # one lock per job: a job's start may wait for another job
            if job.handle is None:
                job.handle, job.processes = job.start(self.folder_factory.mktemp(job.name), job.users)
                with self.lock:  # started during a wait: widened like the others (`waiting`)
                    cpus = usable_cpus() if self.waits else background_cpus()
                    for process in job.processes:
                        set_cpu_affinity(process.pid, cpus)
        return job

    def get(self, name):
        """The handle of job `name`, started now if no lane had started it yet."""
        return self._start(self.jobs[name]).handle

    @contextlib.contextmanager
    def waiting(self):
        """While the session's thread is in this block (it waits for a process), every running job may use every
        CPU; afterwards, the upper half again. In another thread (a lane), nothing changes."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        with self.lock:
            self.waits += 1
            if self.waits == 1:
                self._set_affinity(usable_cpus())
        try:
            yield
        finally:
            with self.lock:
                self.waits -= 1
                if self.waits == 0:
                    self._set_affinity(background_cpus())

    def _set_affinity(self, cpus):
        for job in self.jobs.values():
            for process in job.processes:
                if process.poll() is None:
                    set_cpu_affinity(process.pid, cpus)

    def run(self, items, folder_factory):
        """Queues the jobs that `items` need, the longest first, and starts the lanes."""
        self.folder_factory = folder_factory
        for item in items:
            for job in self.jobs.values():
                if job.is_user(item):
                    job.users.append(item)
        self.pending = self.order(job for job in self.jobs.values() if job.users)
        self.threads = [threading.Thread(target=self._work, name=f"kcolor-test-jobs-{lane}", daemon=True)
                        for lane in range(LANES)]  # fmt: skip
        for thread in self.threads:
            thread.start()

    @staticmethod
    def order(jobs):
        """`jobs` in the order the lanes start them: the longest first."""
        return sorted(jobs, key=lambda job: -job.seconds)

    def _work(self):
        while not self.stopping.is_set():
            with self.lock:
                if not self.pending:
                    return
                job = self.pending.pop(0)
            for process in self._start(job).processes:
                while process.poll() is None and not self.stopping.wait(0.2):
                    pass

    def stop(self):
        """Ends the lanes and kills what still runs."""
        self.stopping.set()
        self._kill_all()  # also ends a job's start that waits for another job's processes
        for thread in self.threads:
            thread.join()
        self._kill_all()  # what a start in progress started meanwhile
        self.threads, self.pending = [], []
        for job in self.jobs.values():
            job.handle, job.processes, job.users = None, [], []

    def _kill_all(self):
        for job in self.jobs.values():
            for process in job.processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def usable_cpus():
    """The CPUs the test session may use, sorted (the root conftest.py keeps the lower half for itself)."""
    if os.environ.get("KCOLOR_TEST_CPUS"):
        return sorted(int(cpu) for cpu in os.environ["KCOLOR_TEST_CPUS"].split(","))
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def background_cpus():
    """The upper half of `usable_cpus()`: where the background jobs run."""
    cpus = usable_cpus()
    return cpus[len(cpus) // 2 :]


def set_cpu_affinity(pid, cpus):
    """Lets process `pid`, all its threads, run on `cpus` only (Linux; elsewhere, or when it ended: nothing)."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        return
    try:
        threads = [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for thread in threads:
        try:
            os.sched_setaffinity(thread, cpus)
        except OSError:  # it ended meanwhile
            pass


JOBS = JobQueue()


def uses_fixture(name):
    """An `is_user` for `JobQueue.register`: the tests that use fixture `name` (nbval's cells use none)."""
    return lambda item: name in getattr(item, "fixturenames", ())


class _JobFolders:
    """Folders for the jobs' files, in one temporary folder removed at the end of the session."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="kcolor-test-jobs-"))

    def mktemp(self, name):
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))


def pytest_collection_modifyitems(session, config, items):
    """Runs the notebooks first, then the tests that need no background job, then those that wait for one, so
    that the queue has the longest head start. The last group runs in the queue's order (`JobQueue.order`) of the
    last job each test needs: the session first checks what the earliest jobs left while the lanes finish the last
    ones. Otherwise the collection order is kept. (No module-scoped fixture is used on both sides of a split, so
    none is set up twice.)"""
    rank = {job.name: position for position, job in enumerate(JOBS.order(JOBS.jobs.values()))}

    def last_job(item):
        return max((rank[name] for name, job in JOBS.jobs.items() if job.is_user(item)), default=-1)

    items.sort(key=lambda item: (not hasattr(item, "cell"), last_job(item)))


def pytest_collection_finish(session):
    """Starts the queue as soon as the tests are known (before the notebooks, which come first and use no
    fixtures, run)."""
    if not session.config.option.collectonly:
        JOBS.run(session.items, _JobFolders())


def pytest_sessionfinish(session):
    import shutil

    folders = JOBS.folder_factory
    JOBS.stop()
    JOBS.folder_factory = None
    if folders is not None:
        shutil.rmtree(folders.root, ignore_errors=True)


# The tiny runs and the run that resumes the killed one compute on one thread: the resumed run must repeat the
# reference's arithmetic bit for bit (test_reliability.py), and TensorFlow splits a reduction by its thread count,
# which would otherwise follow the CPUs the job queue gives each process.
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1"}


def start_tiny_runs(folder, users=()):
    """Starts `TINY_TRAIN_OPTIONS` twice at the same time, to the end and killed mid-epoch (see `tiny_runs`)."""
    processes = {
        "reference": start_kcolor(
            "train", *TINY_TRAIN_OPTIONS, "--out", folder / "reference", log_to=folder / "reference", env=ONE_THREAD
        ),
        "killed": start_kcolor(
            "train", *TINY_TRAIN_OPTIONS, "--out", folder / "killed", python_prefix=KILL_DURING_SECOND_CHECKPOINT,
            log_to=folder / "killed", env=ONE_THREAD,
        ),
    }
    return (folder, processes), list(processes.values())


def start_recipe_run(folder, users=()):
    """Starts `kcolor.training.train(TrainConfig(out=folder / "run", **RECIPE_CHECK))` (see `recipe_run`)."""
    config = dict(RECIPE_CHECK, out=str(folder / "run"))
    code = f"{NO_GRAPH_OPTIMIZER}from kcolor.training import TrainConfig, train\ntrain(TrainConfig(**{config!r}))"
    process = start_process([sys.executable, "-c", code], log_to=folder / "train")
    return (folder / "run", process), [process]


# (tiny_runs: 20 s, and cli_commands' 30 s, which waits for it: before cli_commands in the queue)
JOBS.register("tiny_runs", start_tiny_runs, uses_fixture("tiny_runs"), seconds=50)
JOBS.register("recipe_run", start_recipe_run, uses_fixture("recipe_run"), seconds=40)


@pytest.fixture(scope="session")
def recipe_run(tmp_path_factory):
    """The run folder of `RECIPE_CHECK`'s training, once it finished."""
    run_dir, process = JOBS.get("recipe_run")
    result = finish(process, timeout=1800)
    if result.returncode != 0:
        raise AssertionError(f"the recipe run failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    return run_dir


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Trains `TINY_TRAIN_OPTIONS` twice at the same time, once to the end and once killed mid-epoch.

    Returns:
        `{"reference": (run_dir, process), "killed": (run_dir, process), "killed_checkpoint": folder}`, the
        last a copy of the killed run's `checkpoint/` folder as the kill left it.
    """
    folder, processes = JOBS.get("tiny_runs")
    runs = {name: (folder / name, finish(process)) for name, process in processes.items()}
    result = runs["reference"][1]
    if result.returncode != 0:
        raise AssertionError(f"kcolor train failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    runs["killed_checkpoint"] = copy_killed_checkpoint(folder)
    return runs


_COPY_LOCK = threading.Lock()


def copy_killed_checkpoint(folder):
    """Copies the killed tiny run's `checkpoint/` folder, as the kill left it, once; returns the copy's path.

    Called by `tiny_runs` and by the `cli_commands` job before it resumes the killed run, whichever comes first.
    """
    import shutil

    copy = folder / "killed_checkpoint"
    with _COPY_LOCK:
        if not copy.exists() and (folder / "killed" / "checkpoint").is_dir():
            shutil.copytree(folder / "killed" / "checkpoint", copy)
    return copy


@pytest.fixture(scope="session")
def tiny_run(tiny_runs):
    """The run folder of the uninterrupted tiny run and its finished process: `(run_dir, process)`."""
    return tiny_runs["reference"]


# The commands of `cli_runs` run in a user's environment, where `TF_CPP_MIN_LOG_LEVEL` is not set: test_quiet.py
# checks that TensorFlow's C++ start-up lines do not reach their output.
AS_A_USER = {"TF_CPP_MIN_LOG_LEVEL": None}


def start_cli_commands(folder, users=()):
    """Starts the commands of `cli_runs` at the same time, once the tiny runs ended (a background job)."""
    paths = dict(
        photos=folder / "photos", missing=folder / "missing.jpg", empty_folder=folder / "empty",
        out_dir=folder / "colorized", metrics_json=folder / "metrics" / "reference.json", report_dir=folder / "report",
    )  # fmt: skip
    expected = write_test_photos(paths["photos"])
    (paths["photos"] / "notes.txt").write_text("not a photo")
    paths["empty_folder"].mkdir()
    fingerprints = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths["photos"].iterdir()}
    tiny_folder, tiny_processes = JOBS.get("tiny_runs")
    with JOBS.waiting():  # (in the session's thread: a test asked for this job before a lane started it)
        for process in tiny_processes.values():
            process.wait(timeout=1800)
    reference_dir, killed_dir = tiny_folder / "reference", tiny_folder / "killed"
    copy_killed_checkpoint(tiny_folder)  # before the resumed run changes it
    processes = {
        "resumed": start_kcolor("train", "--resume", "--out", killed_dir, log_to=folder / "resumed",
                                env={**ONE_THREAD, **AS_A_USER}),
        "colorized": start_kcolor(
            "colorize", paths["photos"], paths["missing"], paths["empty_folder"], "example:chelsea",
            "--model", reference_dir, "--out-dir", paths["out_dir"], console_script=True, log_to=folder / "colorized",
            env=AS_A_USER,
        ),
        "evaluated": start_kcolor(
            "evaluate", "--model", reference_dir, "--limit", "16", "--json", paths["metrics_json"],
            "--out", paths["report_dir"], log_to=folder / "evaluated", env=AS_A_USER,
        ),
    }  # fmt: skip
    return (processes, {**paths, "expected": expected, "fingerprints": fingerprints}), list(processes.values())


JOBS.register("cli_commands", start_cli_commands, uses_fixture("cli_runs"), seconds=30)  # (its start waits for tiny)


@pytest.fixture(scope="session")
def cli_runs(tiny_runs):
    """The commands that follow the training, run at the same time (each in a fresh process; a background job).

    * `resumed`: `kcolor train --resume` of the killed run (only `--out` given);
    * `colorized`: the `kcolor` script colorizing `write_test_photos`, a missing file, an empty folder and
      `example:chelsea` with the reference run;
    * `evaluated`: `python -m kcolor evaluate` of the reference run on 16 images, with `--json`.

    They run without `TF_CPP_MIN_LOG_LEVEL` (`AS_A_USER`).

    The killed run's checkpoint is copied (`copy_killed_checkpoint`) before the resumed run changes it.

    Returns:
        A dict with those three `CompletedProcess`es and the paths they used: `photos`, `expected` (as
        `write_test_photos`), `fingerprints` (each input's bytes and modification time before the run),
        `missing`, `empty_folder`, `out_dir`, `metrics_json`, `report_dir`.
    """
    processes, paths = JOBS.get("cli_commands")
    return {**{name: finish(process) for name, process in processes.items()}, **paths}


def write_test_photos(folder):
    """Writes the photos of the colorize tests into `folder`; returns `{name: expected outcome}`.

    An outcome is `(width, height)` of the colorized output (the photo as displayed: EXIF rotation applied),
    or the reason a rejection names. Generated: usual and unusual but valid files (odd size, grayscale, CMYK,
    16-bit, RGBA, palette, 1x1, animated GIF, EXIF-rotated) and hostile ones (empty, truncated, text named
    .jpg, a PNG header claiming 30000x30000 pixels).
    """
    import io
    import struct
    import zlib

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8))
    photo.save(folder / "odd_rgb.png")
    photo.convert("CMYK").save(folder / "cmyk.jpg")
    photo.convert("RGBA").save(folder / "rgba.png")
    photo.convert("P").save(folder / "palette.png")
    photo.convert("L").save(folder / "gray.jpg")
    Image.fromarray(rng.integers(0, 65536, (20, 30)).astype(np.uint16)).save(folder / "sixteen_bit.png")
    Image.new("RGB", (1, 1), (200, 30, 40)).save(folder / "one_pixel.png")
    frames = [Image.new("RGB", (24, 16), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)).save(folder / "rotated.jpg", exif=exif.tobytes())

    (folder / "empty.jpg").write_bytes(b"")
    jpeg = io.BytesIO()
    photo.save(jpeg, format="JPEG")
    (folder / "truncated.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    (folder / "text.jpg").write_text("this is not a JPEG\n")
    png = io.BytesIO()
    Image.new("RGB", (1, 1)).save(png, format="PNG")
    data = bytearray(png.getvalue())
    header = struct.pack(">II", 30000, 30000) + bytes(data[24:29])  # IHDR: width, height, then depth etc.
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    (folder / "bomb.png").write_bytes(bytes(data))
    return {
        "odd_rgb.png": (53, 37), "cmyk.jpg": (53, 37), "rgba.png": (53, 37), "palette.png": (53, 37),
        "gray.jpg": (53, 37), "sixteen_bit.png": (30, 20), "one_pixel.png": (1, 1), "animated.gif": (24, 16),
        "rotated.jpg": (24, 40), "empty.jpg": "file is empty (0 bytes)", "truncated.jpg": "truncated",
        "text.jpg": "not a recognized image format", "bomb.png": "possibly a decompression bomb",
    }  # fmt: skip


@pytest.fixture(scope="session", name="write_test_photos")
def write_test_photos_fixture():
    """`write_test_photos(folder)`: writes the usual, unusual and hostile test photos; returns the outcomes."""
    return write_test_photos
