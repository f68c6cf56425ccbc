"""Every picture in the course notebooks loads from a copy of the notebook alone, as on Colab.

Colab opens a notebook without the rest of the repository, and so does anyone who downloads one: a picture linked
as a file (`../docs/overview.png`, `/home/me/x.png`) is a broken image there. These tests copy each notebook,
alone, into an empty temporary folder, render it to HTML with nbconvert's `HTMLExporter` (as `jupyter nbconvert
--to html` does) and fail on any `<img>` whose `src` is not a `data:` URI or an `https://` URL. nbconvert turns
outputs (matplotlib figures) into data URIs; markdown pictures must be data URIs in the source already
(`docs/notebook_figures.py` embeds the Overview pictures).

nbconvert would also turn a markdown cell *attachment* (`![x](attachment:x.png)`) into a data URI, but Colab does
not render attachments (googlecolab/colabtools#3836), so they are refused separately.

Two sets are rendered: the committed notebooks (no outputs), and the same notebooks executed in smoke mode in
the temporary folder with nbclient, in course order so that 03 and 04 reuse the runs of 02 (about as long as
their nbval run).
"""

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb"))
LOADABLE = ("data:", "https://")


class _Images(HTMLParser):
    """Collects the `src` of every `<img>` (and `<source>`/`<video>`/`<audio>`) in an HTML page."""

    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attributes):
        if tag in ("img", "source", "video", "audio"):
            self.sources.extend(value or "" for name, value in attributes if name in ("src", "poster"))


def rendered_image_sources(notebook, folder):
    """`src` of every image in `notebook` rendered to HTML by nbconvert, as if the notebook lived in `folder`."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(notebook, resources={"metadata": {"path": str(folder)}})
    parser = _Images()
    parser.feed(html)
    return parser.sources


def unloadable(sources):
    return [source[:120] for source in sources if not source.startswith(LOADABLE)]


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


@pytest.fixture(scope="module")
def execute(tmp_path_factory):
    """`execute(name)`: the notebook executed (smoke mode) in a temporary folder that holds copies of the notebooks.

    Notebooks are executed once each, in course order up to `name`, so that 03 and 04 find the runs of 02.
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    folder = tmp_path_factory.mktemp("executed")
    executed = {}

    def run(name):
        path = Path(shutil.copy(NOTEBOOK_DIR / name, folder / name))
        notebook = nbformat.read(path, as_version=4)
        kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
        # Draw figures into the outputs as Jupyter and Colab do (the test session's MPLBACKEND=Agg draws nothing).
        backend = os.environ.get("MPLBACKEND")
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        try:
            NotebookClient(notebook, km=kernel, timeout=900, resources={"metadata": {"path": str(folder)}}).execute()
        finally:
            if backend is None:
                os.environ.pop("MPLBACKEND")
            else:
                os.environ["MPLBACKEND"] = backend
        return notebook

    def execute(name):
        for earlier in NOTEBOOKS[: NOTEBOOKS.index(name) + 1]:
            if earlier not in executed:
                try:
                    executed[earlier] = run(earlier)
                except Exception as error:  # reported when (and only when) that notebook is asked for
                    executed[earlier] = error
        if isinstance(executed[name], Exception):
            raise executed[name]
        return executed[name], folder

    return execute


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_executed_notebook_pictures_load_from_a_copy(name, execute):
    """The notebook run in smoke mode (outputs: figures, tables, the report) still has only loadable pictures."""
    notebook, folder = execute(name)
    outputs = sum(len(cell.get("outputs", [])) for cell in notebook.cells)
    assert outputs, f"{name} has no outputs after executing"
    sources = rendered_image_sources(notebook, folder)
    figures = [source for source in sources if source.startswith("data:image/png;base64,")]
    assert len(figures) > 1, f"{name}: expected the Overview picture and the figures the notebook draws"
    assert not unloadable(sources), f"{name}: pictures that a copy of the notebook cannot load: {unloadable(sources)}"
