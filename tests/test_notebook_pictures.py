"""Every picture in the course notebooks loads from a copy of the notebook alone, as on Colab.

Colab opens a notebook without the rest of the repository, and so does anyone who downloads one: a picture linked
as a file (`../docs/overview.png`, `/home/me/x.png`) is a broken image there. These tests copy each committed
notebook, alone, into an empty temporary folder, render it to HTML with nbconvert's `HTMLExporter` (as `jupyter
nbconvert --to html` does) and fail on any `<img>` whose `src` is not a `data:` URI or an `https://` URL. Markdown
pictures must be data URIs in the source already (`docs/notebook_figures.py` embeds the Overview pictures).

nbconvert would also turn a markdown cell *attachment* (`![x](attachment:x.png)`) into a data URI, but Colab does
not render attachments (googlecolab/colabtools#3836), so they are refused separately.

What the notebooks show when they run (figures, tables, the report) is checked cell by cell during their nbval run
by the plugin `tests/nbval_pictures.py`, without executing them a second time; the last test here checks that
plugin on a small notebook of its own.
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from tests.nbval_pictures import rendered_image_sources, unloadable

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))


def copy_alone(name, folder):
    """Copies notebook `name` into `folder`, which holds nothing else; returns the copy's path."""
    folder.mkdir(parents=True, exist_ok=True)
    assert not any(folder.iterdir()), f"{folder} is not empty"
    return Path(shutil.copy(NOTEBOOK_DIR / name, folder / name))


def test_the_check_finds_a_picture_linked_as_a_file(tmp_path):
    """The check itself: a relative or absolute file link fails it, a data URI or https URL passes."""
    cell = nbformat.v4.new_markdown_cell(
        "![docs](../docs/overview_photo.png) ![absolute](/tmp/photo.png) <img src=\"photo.jpg\">\n\n"
        "![inline](data:image/png;base64,iVBORw0KGgo=) ![web](https://colab.research.google.com/assets/colab-badge.svg)"
    )
    sources = rendered_image_sources(nbformat.v4.new_notebook(cells=[cell]), tmp_path)
    assert len(sources) == 5
    assert unloadable(sources) == ["../docs/overview_photo.png", "/tmp/photo.png", "photo.jpg"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_cell_attachments(name):
    """Colab shows a markdown cell attachment as a broken image: pictures are data URIs in the source instead."""
    for index, cell in enumerate(nbformat.read(NOTEBOOK_DIR / name, as_version=4).cells):
        assert not cell.get("attachments"), f"{name}, cell {index}: has attachments, which Colab does not render"
        assert "attachment:" not in cell.source, f"{name}, cell {index}: refers to a cell attachment"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_pictures_load_from_a_copy(name, tmp_path):
    copy = copy_alone(name, tmp_path / "alone")
    sources = rendered_image_sources(nbformat.read(copy, as_version=4), copy.parent)
    assert any(source.startswith("data:image/png;base64,") for source in sources), "the Overview picture is missing"
    assert not unloadable(sources), f"{name}: pictures that a copy of the notebook cannot load: {unloadable(sources)}"


def test_the_nbval_plugin_fails_a_cell_that_shows_a_picture_linked_as_a_file(tmp_path):
    """nbval runs a small notebook with the plugin: the cells whose outputs link a file fail, the others pass."""
    cells = [
        "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()",  # a figure: drawn inline, a data URI
        "from IPython.display import HTML\nHTML('<img src=\"../docs/photo.png\">')",
        "from IPython.display import Markdown\nMarkdown('![web](https://colab.research.google.com/x.svg)')",
        "from IPython.display import Markdown\nMarkdown('![local](/tmp/photo.png)')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "pictures.ipynb")
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import os

        import pytest

        os.environ["MPLBACKEND"] = "Agg"  # as the suite sets it: the plugin draws figures inline anyway


        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_call(item):  # records what each cell showed, for the test to read
            try:
                return (yield)
            finally:
                kinds = sorted({kind for output in item.test_outputs for kind in output.get("data", {})})
                with open("shown.txt", "a") as file:
                    file.write(f"{item.name}\\t{','.join(kinds)}\\n")
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.nbval_pictures", "-p", "no:cacheprovider", "-v", "--nbval-lax",
         "--nbval-current-env", "--rootdir", str(tmp_path), "-o", "addopts=", "pictures.ipynb"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    report = result.stdout + result.stderr
    assert result.returncode == 1 and "2 failed, 2 passed" in report, report[-3000:]
    # nbval names the items "pictures::ipynb::Cell N" in verbose output
    outcomes = dict(re.findall(r"pictures(?:\.|::)ipynb::(Cell \d+) (PASSED|FAILED)", result.stdout))
    assert outcomes == {"Cell 0": "PASSED", "Cell 1": "FAILED", "Cell 2": "PASSED", "Cell 3": "FAILED"}, report[-3000:]
    assert "../docs/photo.png" in report and "/tmp/photo.png" in report, report[-3000:]
    shown = dict(line.split("\t") for line in (tmp_path / "shown.txt").read_text().splitlines())
    assert "image/png" in shown["Cell 0"], shown  # the figure was drawn into the outputs, with the inline backend
