"""The national-to-local benchmark generator (benchmarks/national_to_local.py) makes valid,
solvable instances whose local copies add up to the default's national programmes."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from allocator.api import solve
from allocator.io import load_instance
from allocator.validation import check_run_sections
from benchmarks import national_to_local as ntl

SMALL = {"icb": 3, "police": 2, "utla": 4}


@pytest.fixture(scope="module")
def tpl():
    return ntl.template()


@pytest.mark.parametrize("geography", sorted(ntl.AREAS))
@pytest.mark.parametrize("subdivisions", [1, 3])
def test_shares_sum_to_one_and_are_positive(geography, subdivisions):
    shares, need = ntl.area_shares(geography, 7, subdivisions, np.random.default_rng(5))
    assert shares.shape == need.shape == (7 * subdivisions,)
    assert shares.sum() == pytest.approx(1.0, abs=1e-12)
    assert (shares > 0).all() and (need > 0).all()


@pytest.mark.parametrize("subdivisions", [1, 2])
def test_local_copies_add_up_to_the_national_programme(tpl, subdivisions):
    inst = ntl.generate(subdivisions, seed=3, areas=SMALL, tpl=tpl)
    assert len(inst.programmes) == ntl.programme_count(subdivisions, SMALL, tpl=tpl)
    national = {p.id: p for p in tpl.programmes}
    base, floor = defaultdict(float), defaultdict(float)
    for p in inst.programmes:
        root = p.id.split("@")[0]
        base[root] += p.baseline_gbp_m
        floor[root] += p.floor_gbp_m
        assert p.owners == national[root].owners and p.category == national[root].category
    for pid, p in national.items():
        assert base[pid] == pytest.approx(p.baseline_gbp_m, rel=1e-9)
        assert floor[pid] == pytest.approx(p.floor_gbp_m, rel=1e-9, abs=1e-9)
    # a locally delivered programme is split into areas × subdivisions copies, the rest stay whole
    copies = defaultdict(int)
    for p in inst.programmes:
        copies[p.id.split("@")[0]] += 1
    assert copies["nhs_acute"] == SMALL["icb"] * subdivisions
    assert copies["police_core"] == SMALL["police"] * subdivisions
    assert copies["schools_core"] == SMALL["utla"] * subdivisions
    assert copies["defence_resource"] == 1
    # comprehensive metrics keep their terms' meaning: one term per copy, same rate
    m = {x.id: x for x in inst.settings.comprehensive_metrics}["nhs_acute_activity_per_need"]
    assert len(m.terms) == SMALL["icb"] * subdivisions
    assert {t.per_gbp_m for t in m.terms} == {0.000847458}
    # every invest-to-save row names programmes that exist
    ids = {p.id for p in inst.programmes}
    assert all(r.programme in ids and r.target in ids for r in inst.invest_to_save)


def test_written_instance_validates_and_solves(tpl, tmp_path):
    inst = ntl.generate(1, seed=0, areas=SMALL, tpl=tpl)
    folder = ntl.write_instance(inst, tmp_path / "n2l")
    back = load_instance(folder)
    check_run_sections(back, folder, None)  # what `allocator validate` runs
    assert len(back.programmes) == len(inst.programmes)
    res = solve(back)
    assert res.status == "optimal"  # includes the independent check of the plan
    # department totals are the default's, so the fiscal envelope binds at about the same
    # level: the local optimum is within a few percent of the national one
    national = solve(tpl)
    assert res.objective == pytest.approx(national.objective, rel=0.05)


def _raw(ks, date, cpu, method="ipm"):
    machine = {"cpu": "x", "cores": 2, "memory": "1 GiB", "python": "3", "os": "L", "highs": "1",
               "numpy": "2", "scipy": "1", "date": date, "loadavg": [1.0, 1.0, 1.0]}
    sizes = [{"k": k, "programmes": 1000 * k, "columns": 70_000 * k, "rows": 35_000 * k,
              "nonzeros": 800_000 * k, "status": "optimal", "cpu_s": cpu * k ** 2,
              "wall_s": cpu * k ** 2, "peak_rss_mib": 100.0 * k + 100, "rss_after_imports_mib": 100.0,
              "timings": {"load": 0.1, "build": 0.1 * k, "solve": cpu * k ** 2}} for k in ks]
    return {"sizes": sizes, "compare": {}, "seed": 0, "loadavg_start": [0.5, 0.5, 0.5],
            "unique_plan": False, "method": method, "machine": machine}


def test_scale_runs_merge_into_one_page_stating_each_run():
    from benchmarks import scale_bench

    r = scale_bench.merge([_raw([4], "2026-01-02 10:00 UTC", 3.0), _raw([1, 2], "2026-01-01 09:00 UTC", 3.0)])
    assert [s["k"] for s in r["sizes"]] == [1, 2, 4]
    assert [u["k"] for u in r["runs"]] == [[1, 2], [4]]
    page = scale_bench.render(r)
    assert "2 runs" in page and "k = 1, 2 ended 2026-01-01 09:00 UTC" in page
    assert "CPU b = 2.00" in page  # cpu ∝ k², and programmes ∝ k
    with pytest.raises(SystemExit, match="more than one run"):
        scale_bench.merge([_raw([1], "d1", 1.0), _raw([1], "d2", 1.0)])
    with pytest.raises(SystemExit, match="differ"):
        scale_bench.merge([_raw([1], "d1", 1.0), _raw([2], "d2", 1.0, method="simplex")])
