"""Shared pytest fixtures: quiet TensorFlow, small real photos, and running code in a fresh interpreter."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


# Prepended to the code of the subprocesses that train with TensorFlow in a Python of their own (the recipe
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
# photos, deterministic, checkpointing every 2 steps, with the optional chroma term on. test_reliability resumes
# a killed copy of it and compares the weights bit for bit, so both must use exactly these options.
TINY_TRAIN_OPTIONS = (
    "--dataset", "sample", "--width-multiplier", "0.125", "--image-size", "16", "--batch-size", "8",
    "--steps-per-epoch", "6", "--epochs", "2", "--checkpoint-every", "2", "--no-jit", "--deterministic",
    "--verbose", "0", "--chroma-weight", "0.5", "--chroma-penalty", "squared",
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
    """Waits for a `start_process` process: a `CompletedProcess` with its exit status and output."""
    if hasattr(process, "log_paths"):
        process.wait(timeout=timeout)
        stdout, stderr = (open(path).read() for path in process.log_paths)
    else:
        stdout, stderr = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def stop(processes):
    """Kills what still runs of `processes` (a fixture's teardown: a failed or interrupted session)."""
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


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
# Shared runs: the suite's longest subprocess work (training runs, the commands after them, the JAX checks, the
# distribution comparisons) runs once, in session- or module-scoped fixtures. Under pytest-xdist (`-n auto --dist
# loadgroup`, pyproject.toml) every test that uses one of them is sent to the same worker
# (`pytest_collection_modifyitems` below), so each runs once, while the other workers run other tests.

SHARED_RUN_GROUPS = {
    "tiny_runs": "tiny_runs", "tiny_run": "tiny_runs", "cli_runs": "tiny_runs",  # cli_runs needs tiny_runs
    "recipe_run": "recipe_run", "full_mode_runs": "full_mode_runs", "jax_checks": "jax_checks",
    "comparisons": "distribution", "workers": "distribution",
}  # fmt: skip
"""Fixture that starts a shared run -> the `xdist_group` of the tests that use it."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Groups tests for pytest-xdist's `loadgroup`: the users of a shared run (notebooks: the root conftest.py)."""
    for item in items:
        groups = [SHARED_RUN_GROUPS[name] for name in getattr(item, "fixturenames", ()) if name in SHARED_RUN_GROUPS]
        if groups:
            item.add_marker(pytest.mark.xdist_group(groups[0]))


# The tiny runs and the run that resumes the killed one compute on one thread: the resumed run must repeat the
# reference's arithmetic bit for bit (test_reliability.py), and TensorFlow splits a reduction by its thread count,
# which would otherwise follow the machine's core count.
ONE_THREAD = {"TF_NUM_INTRAOP_THREADS": "1"}


def start_tiny_runs(folder):
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


def start_recipe_run(folder):
    """Starts `kcolor.training.train(TrainConfig(out=folder / "run", **RECIPE_CHECK))` (see `recipe_run`)."""
    config = dict(RECIPE_CHECK, out=str(folder / "run"))
    code = f"{NO_GRAPH_OPTIMIZER}from kcolor.training import TrainConfig, train\ntrain(TrainConfig(**{config!r}))"
    process = start_process([sys.executable, "-c", code], log_to=folder / "train")
    return (folder / "run", process), [process]


@pytest.fixture(scope="session")
def recipe_run(tmp_path_factory):
    """The run folder of `RECIPE_CHECK`'s training, once it finished."""
    (run_dir, process), processes = start_recipe_run(tmp_path_factory.mktemp("recipe_run"))
    try:
        result = finish(process, timeout=1800)
    finally:
        stop(processes)
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
    (folder, processes), started = start_tiny_runs(tmp_path_factory.mktemp("tiny_runs"))
    try:
        runs = {name: (folder / name, finish(process)) for name, process in processes.items()}
    finally:
        stop(started)
    result = runs["reference"][1]
    if result.returncode != 0:
        raise AssertionError(f"kcolor train failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}")
    runs["killed_checkpoint"] = copy_killed_checkpoint(folder)
    return runs


def copy_killed_checkpoint(folder):
    """Copies the killed tiny run's `checkpoint/` folder, as the kill left it; returns the copy's path.

    `tiny_runs` calls it before `cli_runs` resumes the killed run, which changes the folder.
    """
    import shutil

    copy = folder / "killed_checkpoint"
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


def start_cli_commands(folder, tiny_folder):
    """Starts the commands of `cli_runs` at the same time, on the finished tiny runs in `tiny_folder`."""
    paths = dict(
        photos=folder / "photos", missing=folder / "missing.jpg", empty_folder=folder / "empty",
        out_dir=folder / "colorized", metrics_json=folder / "metrics" / "reference.json", report_dir=folder / "report",
    )  # fmt: skip
    expected = write_test_photos(paths["photos"])
    (paths["photos"] / "notes.txt").write_text("not a photo")
    paths["empty_folder"].mkdir()
    fingerprints = {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths["photos"].iterdir()}
    reference_dir, killed_dir = tiny_folder / "reference", tiny_folder / "killed"
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
    return processes, {**paths, "expected": expected, "fingerprints": fingerprints}


@pytest.fixture(scope="session")
def cli_runs(tiny_runs, tmp_path_factory):
    """The commands that follow the training, run at the same time (each in a fresh process).

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
    tiny_folder = tiny_runs["reference"][0].parent
    processes, paths = start_cli_commands(tmp_path_factory.mktemp("cli_runs"), tiny_folder)
    try:
        return {**{name: finish(process) for name, process in processes.items()}, **paths}
    finally:
        stop(processes.values())


def checkpoint_arrays(run_dir):
    """Every array of a run's current checkpoint by name (weights, optimizer states, dropout seeds, metric means),
    and its `state.json`."""
    import json

    import h5py

    state = json.loads((run_dir / "checkpoint" / "state.json").read_text())
    folder = run_dir / "checkpoint" / state["checkpoint"]
    arrays = {}
    with h5py.File(folder / "gan.weights.h5", "r") as file:
        file.visititems(lambda name, item: arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
    with np.load(folder / "training_state.npz") as extra:
        arrays.update({name: extra[name] for name in extra.files})
    return arrays, state


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
