"""The API reference builds from the docstrings with no warning, documents every covered
name with its docstring, and the docstrings' examples run (doctests)."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest

from allocator.apidoc import COVERED, DOCTESTED, build


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    pytest.importorskip("pdoc")
    out = tmp_path_factory.mktemp("api")
    return out, build(out)


def test_reference_builds_without_warnings(reference):
    out, problems = reference
    assert problems == []
    assert (out / "index.html").is_file()


@pytest.mark.parametrize("module", sorted(COVERED))
def test_every_covered_name_is_documented(reference, module):
    out, _ = reference
    page = out.joinpath(*module.split(".")).with_suffix(".html")
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html or "pdoc" in html  # a pdoc page
    for name in COVERED[module]:
        m = re.search(rf'<section id="{re.escape(name)}">(.*?)</section>', html, re.S)
        assert m, f"{module}.{name} has no section in {page.name}"
        assert 'class="docstring"' in m.group(1), f"{module}.{name} has no docstring"


def test_solve_and_result_pages_carry_their_examples(reference):
    out, _ = reference
    api = (out / "allocator" / "api.html").read_text(encoding="utf-8")
    assert "184.5" in api and "shadow_price" in api


@pytest.mark.parametrize("module", DOCTESTED)
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    r = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert r.attempted > 0, f"{module} has no examples"
    assert r.failed == 0
