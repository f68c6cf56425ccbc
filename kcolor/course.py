"""The course's three modes and where its runs live, on a laptop, in a checkout and on Colab.

Every notebook starts by choosing a mode and a runs folder, in one line each:

- **smoke**: tiny models on the offline sample photos for a few steps, for CI (`KCOLOR_SMOKE=1`, or `CI` set);
- **cpu**: what a laptop or a CPU-only Colab runtime finishes in minutes per notebook: a narrow network on
  CIFAR-10 for 1,200 steps, enough for the GAN's colors to stand out from the U-Net's;
- **full**: the paper's CIFAR-10 settings with kcolor's recipe, for a GPU.

Without an override the choice follows the machine: smoke when the environment asks for it, full with a GPU,
else cpu, and the notebook says which mode it picked and why. Full mode never starts on a CPU unless asked for.

Colab gives every notebook its own runtime and recycles it, so on Colab the runs live on Google Drive
(`drive.mount`): notebook 02 writes them there, and notebooks 03 and 04 (or notebook 02 after a disconnect, with
`resume=True`) find them there.
"""

import os
import sys
from pathlib import Path

from kcolor.smoke import is_smoke_mode

MODES = ("smoke", "cpu", "full")
DRIVE_MOUNT = Path("/content/drive")
"""Where Colab mounts Google Drive; the environment variable `KCOLOR_DRIVE_MOUNT` overrides it (tests)."""
DRIVE_FOLDER = "kcolor-course"
"""The folder under "My Drive" that holds the course's runs on Colab, one sub-folder per mode."""


def in_colab():
    """True inside a Google Colab runtime (its `google.colab` module is imported by the runtime itself)."""
    return "google.colab" in sys.modules


def choose_mode(requested=None, *, environ=None, gpu=None, verbose=True):
    """The course mode for this machine, or the one asked for.

    Args:
        requested: `"smoke"`, `"cpu"` or `"full"` to choose by hand (the `KCOLOR_MODE` variable at the top of
            every notebook), or `None` to choose automatically. The environment variable `KCOLOR_MODE` is read
            when `requested` is `None`.
        environ: Environment to read; default: `os.environ`.
        gpu: Whether an accelerator is present; default: asks the active Keras backend.
        verbose: Print one line saying which mode was chosen and why. Full mode without a GPU always prints a
            warning.

    Returns:
        One of `MODES`.

    Raises:
        ValueError: `requested` is not one of `MODES`.

    Example:

    ```python
    MODE = choose_mode()          # "full" on a GPU runtime, "cpu" on a laptop, "smoke" in CI
    ```
    """
    environ = os.environ if environ is None else environ
    if requested is None:
        requested = environ.get("KCOLOR_MODE") or None
    if requested is not None:
        requested = str(requested).strip().lower()
        if requested not in MODES:
            raise ValueError(
                f"KCOLOR_MODE must be one of {MODES} or None (choose for this machine), got {requested!r}."
            )
    if gpu is None and (requested == "full" or (requested is None and not is_smoke_mode(environ))):
        from kcolor.devices import has_gpu

        gpu = has_gpu()
    if requested is not None:
        mode, reason = requested, "chosen by KCOLOR_MODE"
        if mode == "full" and not gpu:  # printed even when not verbose: it is never what a student wants by chance
            print(
                "Warning: full mode without a GPU: it trains the paper's settings, hours per run on a CPU. "
                'Set KCOLOR_MODE = "cpu" for runs that finish in minutes, or choose a GPU runtime.'
            )
    elif is_smoke_mode(environ):
        mode, reason = "smoke", "KCOLOR_SMOKE or CI is set: tiny models, a few steps"
    elif gpu:
        mode, reason = "full", "a GPU is present: the paper's settings"
    else:
        mode, reason = "cpu", (
            "no GPU found: a narrow network for 1,200 steps, minutes per notebook. "
            'On Colab choose Runtime > Change runtime type > GPU for full mode, or set KCOLOR_MODE = "full"'
        )
    if verbose:
        print(f"Mode: {mode} ({reason}).")
    return mode


def project_root(start=None):
    """The kcolor checkout that holds `start` (default: the working folder), or `start` itself outside one."""
    start = Path.cwd() if start is None else Path(start)
    return next((folder for folder in (start, *start.parents) if (folder / "kcolor" / "__init__.py").is_file()), start)


def runs_folder(mode, *, colab=None, mount=None):
    """The folder that holds the course's runs in `mode`, on Google Drive when running on Colab.

    On Colab, Drive is mounted (Colab asks the student to allow it once per runtime) and the runs live in
    `MyDrive/kcolor-course/<mode>`, so that they outlive the runtime: every notebook, in its own runtime, finds
    notebook 02's runs there, and a training cut off by a disconnect resumes from its checkpoint there. If Drive
    cannot be mounted (the student declined), the runs stay in the runtime, with a warning that they go with it.
    Elsewhere they live in `runs/course-<mode>` of the checkout (or of the working folder outside one); full
    mode keeps `runs/course`.

    Args:
        mode: One of `MODES`.
        colab: Whether this is Colab; default: `in_colab()`.
        mount: Where Drive is mounted; default: `KCOLOR_DRIVE_MOUNT` from the environment, else `/content/drive`.

    Returns:
        The folder (a `pathlib.Path`), created if missing.

    Raises:
        ValueError: `mode` is not one of `MODES`.

    Example:

    ```python
    COURSE_DIR = runs_folder("cpu")   # on Colab: /content/drive/MyDrive/kcolor-course/cpu
    ```
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    colab = in_colab() if colab is None else colab
    local = project_root() / "runs" / ("course" if mode == "full" else f"course-{mode}")
    folder = _drive_folder(mode, mount) if colab else local
    if folder is None:
        folder = local
        print(f"Warning: Google Drive is not mounted, so the runs go to {folder}, which this runtime deletes when "
              "it ends: notebooks 03 and 04 (each in its own runtime) will train them again. Run this cell again "
              "and allow Drive to keep them.")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _drive_folder(mode, mount=None):
    """`MyDrive/kcolor-course/<mode>` under the Drive mount point, mounting Drive first; None if that fails."""
    mount = Path(mount or os.environ.get("KCOLOR_DRIVE_MOUNT") or DRIVE_MOUNT)
    if not (mount / "MyDrive").is_dir():
        from google.colab import drive

        try:
            drive.mount(str(mount))
        except Exception as error:  # declined, timed out, or no Drive for this account: Colab's own messages vary
            print(f"Could not mount Google Drive at {mount}: {error}")
            return None
        if not (mount / "MyDrive").is_dir():
            return None
    return mount / "MyDrive" / DRIVE_FOLDER / mode
