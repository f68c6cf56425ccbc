"""Writing a run's files safely: atomic replacement, folder creation, and the JSON and CSV files of a run folder.

Every file kcolor writes (the generator, checkpoints, `config.json`, `history.csv`, sample grids, colorized
photos, `metrics.json`) is written atomically: to a temporary file in the same folder, flushed to disk, then
renamed over the target (`os.replace`), so a process killed during a save leaves the previous file intact.
Temporary leftovers of killed processes start with `.tmp-` and are removed by the next save
(`remove_stale_temporaries`).

Only the standard library is imported here, so the command line can use it before Keras loads.
"""

import csv
import io
import json
import os
import shutil
from pathlib import Path

TEMPORARY_PREFIX = ".tmp-"
"""Name prefix of the temporary files and folders of an unfinished save."""


def fsync(path, directory=False):
    """Flushes a file (or a folder's entries) to disk; silently skipped where the platform cannot.

    Args:
        path: The file or folder.
        directory: True for a folder (its entries, e.g. after a rename into it).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def atomic_write(path, write):
    """Calls `write(temporary_path)`, flushes the file to disk, then renames it to `path`.

    The temporary file is in the same folder and keeps `path`'s name as its suffix (Keras checks suffixes
    such as `.keras` and `.weights.h5`). It is removed if `write` fails or is interrupted.

    Args:
        path: The file to (re)place.
        write: Called with the temporary path; writes the whole file there.

    Returns:
        `path` as a `pathlib.Path`.

    Example:

    ```python
    atomic_write("runs/demo/generator.keras", generator.save)
    ```
    """
    path = Path(path)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{os.getpid()}-{path.name}")
    try:
        write(temporary)
        fsync(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    fsync(path.parent, directory=True)
    return path


def write_text(path, text):
    """Writes `text` to the file `path` atomically (`atomic_write`).

    Args:
        path: The file to (re)place.
        text: Its whole contents.

    Returns:
        `path` as a `pathlib.Path`.
    """
    return atomic_write(path, lambda temporary: Path(temporary).write_text(text))


def write_json(path, data, indent=None):
    """Writes `data` as JSON to the file `path` atomically.

    Args:
        path: The file to (re)place, e.g. a run's `config.json` or a checkpoint's `state.json`.
        data: Anything `json.dumps` takes.
        indent: As for `json.dumps` (None: one line).

    Returns:
        `path` as a `pathlib.Path`.

    Example:

    ```python
    write_json("runs/demo/config.json", dataclasses.asdict(config), indent=2)
    ```
    """
    return write_text(path, json.dumps(data, indent=indent))


def create_folder(path, description):
    """Creates the folder `path` (and its parents) or raises `OSError` with a one-line message naming it.

    Args:
        path: The folder.
        description: What it is, for the message, e.g. `"output folder"`.

    Raises:
        OSError: the folder cannot be created, e.g. `cannot create output folder out: Not a directory`.
    """
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(error.errno, f"cannot create {description} {path}: {error.strerror or error}") from None


def remove_stale_temporaries(folder):
    """Deletes the `.tmp-*` files and folders that a killed process left in `folder` (not recursively).

    Args:
        folder: The folder; nothing happens when it does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name.startswith(TEMPORARY_PREFIX):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def truncate_history(path, completed_epochs):
    """Keeps the header and the rows of epochs before `completed_epochs` in a run's `history.csv` (atomically).

    A killed run may have logged an epoch it did not checkpoint, or half a line; the resumed run logs it again.

    Args:
        path: The `history.csv` file; nothing happens when it does not exist or is empty.
        completed_epochs: Epochs that the checkpoint being resumed has completed.
    """
    path = Path(path)
    if not path.is_file():
        return
    rows = list(csv.reader(io.StringIO(path.read_text(errors="replace"))))
    if not rows:
        return
    header, kept = rows[0], [rows[0]]
    for row in rows[1:]:
        if len(row) == len(header) and row[0].isdigit() and int(row[0]) < completed_epochs:
            kept.append(row)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(kept)
    write_text(path, buffer.getvalue())
