"""A git revision of kcolor, checked out in a temporary `git worktree` for an A/B run.

The benchmark never imports an old revision into its own process: it checks the revision out beside the working
tree and runs the measurements there in worker processes of their own (`benchmarks.launch`, `benchmarks.ab`).
Why, and what that means for the numbers: benchmarks/README.md#ab-runs-against-a-git-revision.
"""

import contextlib
import dataclasses
import shutil
import subprocess
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Checkout:
    """A revision checked out in a worktree.

    Attributes:
        revision: the revision as the user named it (e.g. `HEAD`, `b76c8a1`): the label of its result rows.
        commit: the full hash of the commit it names.
        path: the worktree's root; its `kcolor/` is the revision's package.
    """

    revision: str
    commit: str
    path: Path


def _git(repository, *arguments):
    """Runs `git arguments` in `repository`; returns its completed process (never raises)."""
    return subprocess.run(["git", *arguments], cwd=repository, capture_output=True, text=True)


def resolve(revision, repository=REPOSITORY):
    """The full commit hash that `revision` names in `repository`.

    Args:
        revision: any git revision (`HEAD`, a branch, a tag, an abbreviated hash).
        repository: a folder inside the git repository.

    Returns:
        The commit's 40-digit hash.

    Raises:
        ValueError: `revision` names no commit there (or `repository` is not a git checkout).

    Example:

    ```python
    resolve("HEAD")  # '1ee872b...'
    ```
    """
    completed = _git(repository, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if completed.returncode != 0:
        raise ValueError(f"{revision!r} is not a commit of the git repository at {repository} "
                         f"({completed.stderr.strip() or 'git rev-parse found nothing'}); give a commit, branch or tag "
                         "that `git log` shows there")  # fmt: skip
    return completed.stdout.strip()


def _registered(repository, path):
    """Whether `git worktree list` still names `path`."""
    listing = _git(repository, "worktree", "list", "--porcelain").stdout
    return any(Path(line[len("worktree "):]).resolve() == path.resolve()
               for line in listing.splitlines() if line.startswith("worktree "))  # fmt: skip


@contextlib.contextmanager
def checkout(revision, repository=REPOSITORY):
    """Checks `revision` out in a temporary worktree, and removes it afterwards.

    `git worktree add --detach` into a new temporary folder; on exit, also after an error, `git worktree remove
    --force` (the worker processes leave `__pycache__` folders there) and the folder is deleted. The repository's
    own working tree, index and branches are not touched.

    Args:
        revision: the git revision to check out.
        repository: a folder inside the git repository (default: the one that holds `benchmarks/`).

    Yields:
        A `Checkout`.

    Raises:
        ValueError: `revision` names no commit of `repository`.
        RuntimeError: git could not create the worktree (its message included).

    Example:

    ```python
    with checkout("HEAD") as old:
        print(old.commit, old.path / "kcolor")
    ```
    """
    commit = resolve(revision, repository)
    parent = Path(tempfile.mkdtemp(prefix="kcolor-revision-"))
    path = parent / "checkout"
    try:
        added = _git(repository, "worktree", "add", "--detach", str(path), commit)
        if added.returncode != 0:
            raise RuntimeError(f"git worktree add {path} {commit} failed in {repository}:\n{added.stderr.strip()}")
        yield Checkout(revision=revision, commit=commit, path=path)
    finally:
        if path.exists() or _registered(repository, path):
            _git(repository, "worktree", "remove", "--force", str(path))
        shutil.rmtree(parent, ignore_errors=True)
        if _registered(repository, path):  # removal failed half-way: drop the entry of the deleted folder
            _git(repository, "worktree", "prune")
