"""A pytest plugin for nbval runs: every picture a notebook cell shows must load from a copy of the notebook alone.

Colab opens a notebook without the rest of the repository, and so does anyone who downloads one: a picture linked
as a file (`../docs/overview.png`, `/home/me/x.png`) is a broken image there. nbconvert's `HTMLExporter` (what
`jupyter nbconvert --to html` runs) turns image outputs (matplotlib figures) into `data:` URIs; HTML and markdown
outputs keep whatever `src` they were given. After nbval runs a cell, this plugin renders the cell's outputs to
HTML the same way and fails the cell on any `<img>` (or `<source>`, `<video>`, `<audio>`) whose `src` is neither a
`data:` URI nor an `https://` URL. So the check costs no second execution of the notebooks: it rides on the nbval
run, in the repository's suite (the root `conftest.py` loads it) and in `.ci/colab_stack` (`-p nbval_pictures`).

While nbval starts a notebook's kernel, `MPLBACKEND` is set to matplotlib's inline backend, as in Jupyter and on
Colab, so that figures are drawn into the outputs (the test session's `Agg` would draw nothing) and checked too.

`tests/test_notebook_pictures.py` tests the plugin and checks the committed notebooks' markdown.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser

import pytest

LOADABLE = ("data:", "https://")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_EXPORTER = []  # one HTMLExporter for the session (creating one loads its templates)


class _Images(HTMLParser):
    """Collects the `src` of every `<img>` (and `<source>`/`<video>`/`<audio>`) in an HTML page."""

    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attributes):
        if tag in ("img", "source", "video", "audio"):
            self.sources.extend(value or "" for name, value in attributes if name in ("src", "poster"))


def rendered_image_sources(notebook, folder="."):
    """`src` of every image in `notebook` rendered to HTML by nbconvert, as if the notebook lived in `folder`."""
    if not _EXPORTER:
        from nbconvert import HTMLExporter

        _EXPORTER.append(HTMLExporter())
    html, _ = _EXPORTER[0].from_notebook_node(notebook, resources={"metadata": {"path": str(folder)}})
    parser = _Images()
    parser.feed(html)
    return parser.sources


def unloadable(sources):
    """The sources (shortened) that a copy of the notebook could not load."""
    return [source[:120] for source in sources if not source.startswith(LOADABLE)]


def output_image_sources(outputs):
    """`src` of every image in a code cell's `outputs` (nbformat output dicts), rendered as nbconvert does."""
    import nbformat

    cell = nbformat.v4.new_code_cell(outputs=[nbformat.from_dict(output) for output in outputs])
    return rendered_image_sources(nbformat.v4.new_notebook(cells=[cell]))


def _is_nbval_cell(item):
    return hasattr(item, "test_outputs") and hasattr(item, "cell")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Starts nbval's kernels with the inline backend (the kernel starts in the setup of a notebook's first cell)."""
    if not _is_nbval_cell(item) or os.environ.get("MPLBACKEND") == INLINE_BACKEND:
        return (yield)
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        return (yield)
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval ran a cell (and it passed), fails it on a picture a copy of the notebook could not load."""
    result = yield
    if _is_nbval_cell(item) and item.test_outputs:
        problems = unloadable(output_image_sources(item.test_outputs))
        if problems:
            raise AssertionError(
                f"{item.name}: shows pictures that a copy of the notebook cannot load (Colab, a download): {problems}"
                f". Embed them (a data: URI, an image output) or link an https:// URL."
            )
    return result
