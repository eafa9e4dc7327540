"""Evidence uncertainty: the evidence file, draws, EVPI/EVPPI on a hand-solvable instance,
the robust plan (property), and serial = parallel = resumed runs."""

import filecmp
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator import load_instance
from allocator.errors import InstanceError
from allocator.evidence import as_evidence, load_evidence, run_uncertainty
from allocator.evidence import voi
from allocator.evidence.draws import draw, draws, moments, transform
from allocator.evidence.schema import Beta, LogNormal, Normal, Range, Triangular
from allocator.models.evidence_saa import cvar

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "instances" / "evidence_toy"
UK = ROOT / "instances" / "uk_missions"
CLI = [sys.executable, "-m", "allocator"]
TABLES = ("uncertainty_draws.csv", "uncertainty_summary.csv", "funding_probability.csv",
          "evppi.csv", "robust_by_department.csv", "evidence_parameters.csv")
PHI0 = 1 / math.sqrt(2 * math.pi)


def _param(**kw):
    p = {"id": "p", "kind": "effect_size", "select": {"programmes": ["A"]},
         "distribution": {"type": "normal", "mean": 1.0, "sd": 0.3}, "assumption": "test"}
    p.update(kw)
    return p


# --------------------------------------------------------------------------- the file
def test_shipped_evidence_is_valid_and_every_parameter_is_sourced():
    inst = load_instance(UK)
    ev = load_evidence(UK / "evidence.yaml", inst)
    assert len(ev.parameters) >= 10 and len(ev.group_of()) >= 6
    for p in ev.parameters:
        assert p.source or "ASSUMPTION" in (p.assumption or "").upper() or p.assumption


@pytest.mark.parametrize("bad, where, value", [
    ({"parameters": [_param(colour="red")]}, "parameters[0].colour", "red"),
    ({"parameters": [_param(distribution={"type": "normal", "mean": 1, "sd": -1})]},
     "parameters[0].distribution.sd", -1),
    ({"parameters": [_param(distribution={"type": "cauchy", "loc": 1})]},
     "parameters[0].distribution", None),
    ({"parameters": [_param(assumption=None)]}, "parameters[0]", None),
    ({"parameters": [_param(select={"programmes": ["nope"]})]}, "parameters[0].select.programmes", ["nope"]),
    ({"parameters": [_param(group="g")]}, "parameters[0].group", "g"),
    ({"parameters": [_param(kind="mission_weight", select={"programmes": ["A"]})]},
     "parameters[0].select.programmes", ["A"]),
    ({"parameters": [_param(kind="persistence", select={"lag_profiles": ["now"]})]},
     "parameters[0].distribution", None),
    ({"groups": [{"id": "g", "correlation": -0.9}],
      "parameters": [_param(id="a", group="g"), _param(id="b", group="g"), _param(id="c", group="g")]},
     "groups[0].correlation", -0.9),
    ({"parameters": [_param(distribution={"type": "triangular", "low": 1, "mode": 0, "high": 2})]},
     "parameters[0].distribution", None),
])
def test_bad_evidence_names_file_field_and_value(tmp_path, bad, where, value):
    f = tmp_path / "evidence.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(InstanceError) as e:
        load_evidence(f, load_instance(TOY))
    msg = str(e.value)
    assert str(f) in msg and f"'{where}" in msg, msg
    if value is not None:
        assert repr(value) in msg, msg


def test_cli_refuses_bad_evidence_without_traceback(tmp_path):
    f = tmp_path / "ev.yaml"
    f.write_text(yaml.safe_dump({"parameters": [_param(sd=1)]}))
    p = subprocess.run([*CLI, "uncertainty", str(TOY), "--evidence", str(f), "--draws", "5"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "parameters[0].sd" in p.stderr and "unknown field" in p.stderr


# --------------------------------------------------------------------------- draws
@pytest.mark.parametrize("dist", [
    Normal(type="normal", mean=1.0, sd=0.3), LogNormal(type="lognormal", mean=1.0, sd=0.4),
    Beta(type="beta", alpha=6, beta=1.5, low=0.85, high=1.0),
    Triangular(type="triangular", low=0.4, mode=1.0, high=1.1),
    Range(type="range", low=0.5, high=1.5, read_as="uniform"),
    Range(type="range", low=0.5, high=1.5, read_as="triangular"),
    Range(type="range", low=0.5, high=1.5, read_as="normal_90"),
    Range(type="range", low=0.5, high=2.0, read_as="lognormal_90"),
])
def test_each_distribution_has_its_stated_mean_sd_and_range(dist):
    z = np.random.default_rng(0).standard_normal(400_000)
    v = transform(dist, z)
    mean, sd = moments(dist)
    assert abs(v.mean() - mean) < 0.01 * max(1, abs(mean)) and abs(v.std() - sd) < 0.01
    if isinstance(dist, Range) and dist.read_as.endswith("_90"):
        assert np.quantile(v, 0.05) == pytest.approx(dist.low, rel=0.01)
        assert np.quantile(v, 0.95) == pytest.approx(dist.high, rel=0.01)
    if isinstance(dist, (Beta, Triangular)) or (isinstance(dist, Range) and dist.read_as in
                                                ("uniform", "triangular")):
        assert v.min() >= dist.low - 1e-12 and v.max() <= dist.high + 1e-12


def test_draws_are_common_random_numbers_and_correlated_by_group():
    ev = as_evidence({"groups": [{"id": "g", "correlation": 0.6}],
                      "parameters": [_param(id="a", group="g"), _param(id="b", group="g"),
                                     _param(id="c")]}, load_instance(TOY))
    D = draws(ev, 5, 4000)
    assert np.array_equal(D[17], draw(ev, 5, 17))  # a draw does not depend on how many are taken
    assert not np.array_equal(draw(ev, 6, 17), draw(ev, 5, 17))
    C = np.corrcoef(D.T)
    assert C[0, 1] == pytest.approx(0.6, abs=0.04) and abs(C[0, 2]) < 0.05 and abs(C[1, 2]) < 0.05


# --------------------------------------------------------------------------- hand-solvable
def test_toy_instance_evpi_and_evppi_match_the_derivation():
    """instances/evidence_toy/README.md: θ_A ~ N(1, 0.3), θ_B ~ N(1, 0.4), £10m to share.
    EVPI = 10 √(σ_A²+σ_B²) φ(0); EVPPI_A = 10 σ_A φ(0); EVPPI_B = 10 σ_B φ(0); the sample
    estimators' expectation subtracts 10 √((σ_A²+σ_B²)/S) φ(0) (the sample-average plan's
    in-sample optimism)."""
    S = 2000
    r = run_uncertainty(TOY, draws=S, seed=0)
    A, B = r.draws["theta_A"].to_numpy(), r.draws["theta_B"].to_numpy()
    e = dict(zip(r.evppi["group"], r.evppi["evppi"]))
    # the engine's EVPI is exactly the sample EVPI of the drawn effects
    best_mean = 10 * max(A.mean(), B.mean())
    assert r.evpi == pytest.approx(10 * np.maximum(np.maximum(A, B), 0).mean() - best_mean, abs=1e-7)
    assert r.draws["optimum_value"].to_numpy() == pytest.approx(10 * np.maximum(np.maximum(A, B), 0))
    # EVPPI: the regression's fitted effects ĝ(θ_g) and the LP's inner maximum, by hand
    # (the best of £10m on A, on B, or nothing): the engine reproduces it exactly
    C = np.c_[A, B]
    for g, phi in (("evidence_A", A), ("evidence_B", B)):
        Bm = voi.design(phi)
        fitted = Bm @ voi.fit(Bm, C)
        assert fitted.mean(axis=0) == pytest.approx(C.mean(axis=0))
        by_hand = 10 * np.maximum(fitted.max(axis=1), 0).mean() - best_mean
        assert e[g] == pytest.approx(by_hand, abs=1e-7)
    # and against the closed forms (finite-sample expectation), within 4 standard errors
    bias = 10 * math.sqrt((0.09 + 0.16) / S) * PHI0
    assert r.evpi == pytest.approx(10 * 0.5 * PHI0 - bias, abs=4 * 0.066 * math.sqrt(1000 / S))
    assert e["evidence_A"] == pytest.approx(10 * 0.3 * PHI0 - bias, abs=4 * 0.116 * math.sqrt(1000 / S))
    assert e["evidence_B"] == pytest.approx(10 * 0.4 * PHI0 - bias, abs=4 * 0.075 * math.sqrt(1000 / S))
    assert e["evidence_A"] < e["evidence_B"] < r.evpi
    # the point plan (θ = 1: a tie) is worth 10 on average; the sample-average plan backs the
    # programme with the higher sample mean
    assert r.meta["plans"]["robust"]["expected_value"] == pytest.approx(best_mean)


# --------------------------------------------------------------------------- robust plan
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sd_a=st.floats(0.05, 0.8), sd_b=st.floats(0.05, 0.8), rho=st.floats(-0.8, 0.8),
       lam=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 10_000))
def test_robust_plan_is_never_worse_than_the_point_plan_on_the_same_draws(sd_a, sd_b, rho, lam, seed):
    ev = {"groups": [{"id": "g", "correlation": rho}],
          "parameters": [_param(id="a", group="g", select={"programmes": ["a1", "a2"]},
                                distribution={"type": "lognormal", "mean": 1.0, "sd": sd_a}),
                         _param(id="b", group="g", select={"programmes": ["b1"]},
                                distribution={"type": "lognormal", "mean": 0.8, "sd": sd_b})]}
    r = run_uncertainty(ROOT / "instances" / "tiny", ev, draws=20, seed=seed, evppi=False,
                        cvar_weight=lam, cvar_alpha=0.25)
    vp, vr = r.draws["point_value"].to_numpy(), r.draws["robust_value"].to_numpy()

    def objective(v):
        return (1 - lam) * v.mean() + lam * cvar(v, 0.25)

    assert objective(vr) >= objective(vp) - 1e-6 * max(1.0, abs(objective(vp)))
    if lam == 0.0:
        assert vr.mean() >= vp.mean() - 1e-6 * max(1.0, abs(vp.mean()))
    assert r.evpi >= -1e-6


def test_cvar_is_the_mean_of_the_worst_share():
    v = np.arange(1.0, 21.0)
    assert cvar(v, 0.1) == pytest.approx(1.5)
    assert cvar(v, 0.125) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)
    assert cvar(v, 1.0) == pytest.approx(v.mean())


# --------------------------------------------------------------------------- the default
def _same_tables(a: Path, b: Path):
    for t in TABLES:
        assert filecmp.cmp(a / t, b / t, shallow=False), t


def test_default_instance_small_run_serial_parallel_and_resumed_agree(tmp_path):
    kw = dict(draws=12, seed=4, plots=False)
    a = run_uncertainty(UK, out=tmp_path / "a", jobs=1, **kw)
    run_uncertainty(UK, out=tmp_path / "b", jobs=2, chunk_size=5, **kw)
    _same_tables(tmp_path / "a", tmp_path / "b")
    calls = {"n": 0}

    def stop(stage, done, total):
        calls["n"] += 1
        if stage == "evppi" and done > 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_uncertainty(UK, out=tmp_path / "c", jobs=1, chunk_size=4, progress=stop, **kw)
    assert not (tmp_path / "c" / "evppi.csv").exists()
    c = run_uncertainty(UK, out=tmp_path / "c", jobs=1, resume=True, **kw)
    assert c.meta["timings"]["resumed_units"] > 12
    _same_tables(tmp_path / "a", tmp_path / "c")
    # what the run reports holds together
    m = a.meta
    assert m["evpi"] > 0 and set(m["evppi"]) == set(load_evidence(UK / "evidence.yaml").group_of())
    assert all(0 <= v <= m["evpi"] * 1.5 for v in m["evppi"].values())
    assert m["plans"]["robust"]["expected_value"] >= m["plans"]["point"]["expected_value"] - 1e-6
    assert (a.draws["optimum_value"] >= a.draws["point_value"] - 1e-6).all()
    assert (a.draws["optimum_value"] >= a.draws["robust_value"] - 1e-6).all()
    f = a.funding
    n_programmes = len(load_instance(UK).programmes)
    assert f["probability_above_baseline"].between(0, 1).all() and len(f) == n_programmes
    assert a.departments["change_gbp_m"].abs().sum() > 0


def test_cli_end_to_end_small(tmp_path):
    out = tmp_path / "u"
    p = subprocess.run([*CLI, "uncertainty", "--draws", "6", "--seed", "2", "--jobs", "2",
                        "--out", str(out), "--json"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["draws"] == 6 and j["evpi"] > 0 and len(j["evppi"]) == 8
    assert p.stderr == ""  # --json hides the progress bars
    for name in (*TABLES, "summary.json", "uncertainty_report.md", "value_distribution.png",
                 "funding_probability.svg", "evppi.png"):
        assert (out / name).is_file(), name
    ev = pd.read_csv(out / "evppi.csv")
    assert ev["group"].iloc[-1].startswith("(all parameters")
    assert "EVPI" in (out / "uncertainty_report.md").read_text()
    page = (out / "uncertainty_report.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page and "src='http" not in page
    assert f"£{j['evpi'] / 1000:,.1f}bn" in page


# --------------------------------------------------------------------------- done-when (slow)
slow = pytest.mark.skipif(not os.environ.get("ALLOCATOR_SLOW"), reason="set ALLOCATOR_SLOW=1")


@pytest.mark.slow
@slow
def test_default_instance_1000_draws_cli_api_serial_parallel_resume(tmp_path):
    kw = dict(draws=1000, seed=0, plots=False)
    api = run_uncertainty(UK, out=tmp_path / "api", jobs=1, **kw)
    p = subprocess.run([*CLI, "uncertainty", "--draws", "1000", "--seed", "0", "--jobs", "2",
                        "--no-plots", "--out", str(tmp_path / "cli"), "--quiet"],
                       capture_output=True, text=True, timeout=3600)
    assert p.returncode == 0, p.stderr
    _same_tables(tmp_path / "api", tmp_path / "cli")

    def stop(stage, done, total):
        if stage == "evppi" and done > 3000:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_uncertainty(UK, out=tmp_path / "res", jobs=2, progress=stop, **kw)
    run_uncertainty(UK, out=tmp_path / "res", jobs=2, resume=True, **kw)
    _same_tables(tmp_path / "api", tmp_path / "res")
    assert api.evpi > 0 and len(api.meta["evppi"]) == 8


def test_target_mode_instances_are_refused_with_a_message():
    inst = load_instance(TOY)
    inst.settings.objective.kind = "target_cost"
    with pytest.raises(Exception) as e:
        run_uncertainty(inst, TOY / "evidence.yaml", draws=3)
    assert "target mode" in str(e.value) and "objective.kind" in str(e.value)


def test_dask_local_cluster_gives_the_serial_results():
    distributed = pytest.importorskip("distributed")
    serial = run_uncertainty(TOY, draws=40, seed=8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        res = run_uncertainty(TOY, draws=40, seed=8, scheduler=client, chunk_size=7)
    pd.testing.assert_frame_equal(serial.draws, res.draws)
    pd.testing.assert_frame_equal(serial.evppi, res.evppi)
    pd.testing.assert_frame_equal(serial.funding, res.funding)


def test_each_kind_changes_the_objective_as_documented():
    """tiny: a1 (lag 0) and a2 (lag 1, profile next_year) owned by A, b1 by B, one mission."""
    from allocator.evidence.draws import EvidenceMap
    from allocator.session import ModelSession

    inst = load_instance(ROOT / "instances" / "tiny")
    ev = as_evidence({"parameters": [
        _param(id="eff", select={"departments": ["A"], "segments": [1]}),
        _param(id="w", kind="mission_weight", select={"missions": ["wellbeing"]}),
        _param(id="lag", kind="lag_scale", select={"programmes": ["b1"]}),
        _param(id="rho", kind="persistence", select={"lag_profiles": ["next_year"]},
               distribution={"type": "beta", "alpha": 2, "beta": 2})]}, inst)
    model = ModelSession(inst).model
    em = EvidenceMap(ev, model)
    md = model.data
    base = em.cost(np.ones(4)).reshape(-1, md.T)
    piece = {(md.programmes[p], int(s)): i for i, (p, s) in enumerate(zip(md.piece_prog, md.piece_seg))}

    def ratio(theta, prog, seg):
        c = em.cost(np.array(theta)).reshape(-1, md.T)
        i = piece[(prog, seg)]
        nz = base[i] != 0
        return c[i][nz] / base[i][nz]

    assert ratio([2, 1, 1, 1], "a1", 1) == pytest.approx(2.0)  # segment 1 of A's programmes
    assert ratio([2, 1, 1, 1], "a1", 2) == pytest.approx(1.0)  # segment 2 untouched
    assert ratio([2, 1, 1, 1], "b1", 1) == pytest.approx(1.0)  # B untouched
    assert ratio([1, 3, 1, 1], "b1", 1) == pytest.approx(3.0)  # the only mission's weight
    assert ratio([1, 1, 0.5, 1], "b1", 1) == pytest.approx(0.5)  # lag scale of b1
    assert ratio([1, 1, 1, 0.7], "a2", 1) == pytest.approx(0.7)  # ρ^1 on the lag-1 profile
    assert ratio([1, 1, 1, 0.7], "a1", 1) == pytest.approx(1.0)  # lag 0: ρ^0
    # a plan's value is the dot product with the costs, split exactly by mission
    x = np.linspace(0, 1, len(md.piece_prog) * md.T)
    th = np.array([1.3, 0.8, 1.1, 0.9])
    assert em.mission_values(th, x).sum() == pytest.approx(em.value(em.cost(th), x))
