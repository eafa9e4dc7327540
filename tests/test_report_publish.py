"""The HTML report for a council reader: the deficit the CLI shows, both DEL envelopes binding,
change against baseline for every department, the weights in words, caveats; an infeasible
run's explanation as a list, each relaxation once."""

from __future__ import annotations

import html
import re
import shutil

import pandas as pd
import pytest

from allocator import load_instance, solve
from allocator.report import build_html
from allocator.results_dir import load_results_dir
from tests.conftest import INSTANCES


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def uk_run(tmp_path_factory):
    res = solve(load_instance(INSTANCES / "uk_missions"))
    res.provenance["instance_path"] = str(INSTANCES / "uk_missions")
    return res.write(tmp_path_factory.mktemp("uk") / "run")


def test_report_shows_deficit_envelopes_department_changes_weights_caveats(uk_run):
    run = load_results_dir(uk_run)
    page = build_html(run)
    text = _text(page)
    f = pd.read_csv(uk_run / "fiscal.csv")
    deficit = f[f["current_balance_gbp_m"] < 0]
    assert len(deficit) >= 1
    y, v = deficit.iloc[0]["year"], deficit.iloc[0]["current_balance_gbp_m"]
    assert f"current budget is in deficit in {y} (−£{abs(v) / 1000:,.1f}bn)" in text
    assert "The capital DEL envelope binds" in text and "The resource DEL envelope binds" in text
    table = re.search(r'<table id="department-changes">(.*?)</table>', page, re.S).group(1)
    n_deps = len(pd.read_csv(INSTANCES / "uk_missions" / "departments.csv"))
    assert table.count("<tr>") == 1 + n_deps + 1  # header, every department, the Mission Fund
    assert 'id="weights"' in page and "QALY" in text and "discount" in text
    assert 'id="caveats"' in page and "baseline" in text


def test_infeasible_report_lists_each_relaxation_once(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(INSTANCES / "tiny", bad)
    text = (bad / "programmes.csv").read_text().replace(",0,12,,,now", ",0,30,,,now")
    (bad / "programmes.csv").write_text(text)
    folder = solve(load_instance(bad)).write(tmp_path / "res")
    page = build_html(load_results_dir(folder))
    items = re.search(r'<ol id="relaxations">(.*?)</ol>', page, re.S).group(1)
    assert items.count("<li>") == 3  # floor 30 vs envelope 25 in each of 3 years
    t = _text(page)
    for year in ("2026-27", "2027-28", "2028-29"):
        assert t.count(f"The floor on programme b1 in {year} lowered by £5.0m") == 1
    assert "totals £15.0m" in t
