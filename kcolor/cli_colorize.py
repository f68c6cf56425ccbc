"""`kcolor colorize`: colorize photos of any size with the shipped colorizer or a generator you trained.

Inputs are files, folders (their images, recursively, skipping hidden entries) or `example:NAME` (a photo that
scikit-image or matplotlib ships). One photo that cannot be read or colorized is reported and the batch goes on
(exit status 1); a full or read-only output folder stops it at once (exit status 2). Every PNG is written
atomically (`kcolor.run_files.atomic_write`), so no half-written file is ever left behind.
"""

import argparse
import errno
import os
import sys
from pathlib import Path

from kcolor.cli_arguments import one_line, positive_int
from kcolor.run_files import atomic_write, create_folder

EXAMPLE_PREFIX = "example:"

# File types that `kcolor colorize` picks up in folders (files given by name are always tried).
COLORIZE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Errors writing an output that every further output would hit as well: stop instead of going on.
_OUTPUT_FOLDER_ERRORS = {errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def add_colorize_parser(subparsers):
    """Adds the `colorize` command to the `kcolor` parser.

    Args:
        subparsers: What `ArgumentParser.add_subparsers` returned.

    Returns:
        The `colorize` command's `argparse.ArgumentParser`.
    """
    parser = subparsers.add_parser(
        "colorize",
        help="colorize photos of any size (with the shipped photo colorizer, or a generator you trained)",
        description="Colorize photos (files or folders) at full resolution: the generator runs at --render-size, "
        "its color is upsampled and combined with each photo's own lightness. "
        f"'{EXAMPLE_PREFIX}NAME' names a photo that scikit-image or matplotlib ships "
        f"(e.g. {EXAMPLE_PREFIX}chelsea, {EXAMPLE_PREFIX}grace_hopper).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, or example:NAME")
    parser.add_argument("--model", default="pretrained",
                        help="a run folder, a generator .keras file, or pretrained[:NAME] (default: the photo "
                        "colorizer shipped with kcolor)")
    parser.add_argument("--out-dir", default="colorized", help="output folder (default: colorized)")
    parser.add_argument("--render-size", type=positive_int,
                        help="longer side at which the generator runs (default: the shipped model's measured "
                        "best, a run's training size, or 256; never above the photo's own size)")
    parser.add_argument("--average-flips", action=argparse.BooleanOptionalAction, default=None,
                        help="average the colors of the photo and its three mirror images (default: on for a "
                        "shipped model that asks for it, off otherwise)")
    parser.set_defaults(run=_run_colorize)
    return parser


def _example_photo(name):
    """Path of a photo that an installed package ships: scikit-image's data folder or matplotlib's samples."""
    import matplotlib
    import skimage.data

    folders = [Path(skimage.data.data_dir), Path(matplotlib.get_data_path()) / "sample_data"]
    if name.replace("_", "").replace("-", "").isalnum():  # a plain name, never a path or a pattern
        for folder in folders:
            for path in sorted(folder.glob(f"{name}.*")):
                return path
    known = sorted({p.stem for folder in folders for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg")})
    raise FileNotFoundError(f"no example photo named {name!r}; examples: {', '.join(known)}")


def _folder_images(folder, out_dir):
    """Image files below `folder` (sorted), skipping hidden entries and `out_dir`; with what was left out.

    Returns:
        `(files, other_file_count, unlisted_folders)`: the images, the number of other (non-hidden) files,
        and `(folder, reason)` for subfolders that could not be listed.
    """
    files, other_count, unlisted = [], 0, []
    skip = out_dir.resolve()
    walk = os.walk(folder, onerror=lambda error: unlisted.append((Path(error.filename), error.strerror)))
    for directory, subdirectories, names in walk:
        subdirectories[:] = [
            name for name in subdirectories if not name.startswith(".") and Path(directory, name).resolve() != skip
        ]
        for name in names:
            if name.startswith("."):
                continue
            if name.lower().endswith(COLORIZE_EXTENSIONS):
                files.append(Path(directory, name))
            else:
                other_count += 1
    return sorted(files), other_count, unlisted


def _input_files(inputs, out_dir):
    """Expands inputs into `(path, error)` pairs: folders to their image files, example:NAME to its file."""
    for item in inputs:
        if item.startswith(EXAMPLE_PREFIX):
            try:
                yield _example_photo(item[len(EXAMPLE_PREFIX):]), None
            except FileNotFoundError as error:
                yield Path(item), str(error)
            continue
        path = Path(item)
        if not path.is_dir():
            yield path, None
            continue
        files, other_count, unlisted = _folder_images(path, out_dir)
        for folder, reason in unlisted:
            yield folder, f"cannot list this folder: {reason}"
        if other_count:
            print(f"note: {path}: left out {other_count} files that are not images ({', '.join(COLORIZE_EXTENSIONS)})",
                  file=sys.stderr)
        if not files and not unlisted:
            yield path, "folder holds no images (" + ", ".join(COLORIZE_EXTENSIONS) + ")"
        for file in files:
            yield file, None


def _output_path(out_dir, source, used):
    stem = source.stem
    candidate = out_dir / f"{stem}_colorized.png"
    counter = 2
    while candidate in used:
        candidate = out_dir / f"{stem}_{counter}_colorized.png"
        counter += 1
    used.add(candidate)
    return candidate


def _render_size(args):
    if args.render_size:
        return args.render_size
    from kcolor.model_files import default_render_size

    return default_render_size(args.model)


def _prepare_output_folder(out_dir):
    """Creates `out_dir` and checks it is writable; raises `OSError` with a one-line message."""
    create_folder(out_dir, "output folder")
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(errno.EACCES, f"cannot write to output folder {out_dir}: permission denied")


def _average_flips(args):
    if args.average_flips is not None:
        return args.average_flips
    from kcolor.model_files import default_average_flips

    return default_average_flips(args.model)


def _colorize_one(generator, source, target, render_size, average_flips=False):
    """Colorizes `source` into the PNG `target` (atomically); returns None or the reason it failed."""
    from PIL import Image

    from kcolor.colorize import colorize_photo
    from kcolor.data import ImageReadError, read_image

    try:
        photo = read_image(source)
        colorized = colorize_photo(generator, photo, render_size=render_size, average_flips=average_flips)
    except ImageReadError as error:
        return error.reason
    except Exception as error:
        from kcolor.training import is_out_of_memory

        if is_out_of_memory(error):
            return "out of memory while colorizing it: try a smaller photo, or run on the CPU (CUDA_VISIBLE_DEVICES=)"
        if isinstance(error, ValueError):
            return f"cannot colorize it: {one_line(error)}"
        raise
    try:
        # compress level 1: a 12-megapixel PNG takes a fraction of a second instead of seconds, a little larger
        save = lambda temporary: Image.fromarray(colorized).save(temporary, format="PNG", compress_level=1)  # noqa: E731
        atomic_write(target, save)
    except OSError as error:
        if error.errno in _OUTPUT_FOLDER_ERRORS:
            raise OSError(
                error.errno, f"cannot write {target}: {error.strerror or error}; stopping (free some space or "
                "choose another --out-dir)"
            ) from None
        return f"cannot write {target}: {error.strerror or error}"
    return None


def _run_colorize(args):
    from kcolor.model_files import load_generator

    out_dir = Path(args.out_dir)
    _prepare_output_folder(out_dir)
    generator = load_generator(args.model)
    render_size, average_flips = _render_size(args), _average_flips(args)

    used, failures, written = set(), 0, 0
    for source, problem in _input_files(args.inputs, out_dir):
        if problem is None:
            target = _output_path(out_dir, source, used)
            if target.resolve() == source.resolve():
                problem = "output would overwrite the input; choose another --out-dir"
            else:
                problem = _colorize_one(generator, source, target, render_size, average_flips)
        if problem is None:
            print(f"{source} -> {target}")
            written += 1
        else:
            print(f"error: {source}: {problem}", file=sys.stderr)
            failures += 1
    print(f"{written} colorized, {failures} failed; outputs in {out_dir}")
    return 1 if failures else 0
