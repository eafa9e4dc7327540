"""The tiny instance's optimum, derived by hand in instances/tiny/README.md."""

import numpy as np
import pytest

from allocator import load_instance, solve


@pytest.fixture(scope="module")
def result():
    from tests.conftest import INSTANCES

    return solve(load_instance(INSTANCES / "tiny"))


def test_objective_parts(result):
    assert result.status == "optimal"
    assert result.objective == pytest.approx(184.5, abs=1e-9)
    assert result.objective_in_horizon == pytest.approx(177.0, abs=1e-9)
    assert result.objective_terminal == pytest.approx(7.5, abs=1e-9)


def test_allocation(result):
    a = result.allocations.pivot_table(index="year", columns="programme", values="spend_gbp_m")
    assert np.allclose(a["a1"], 10.0) and np.allclose(a["a2"], 3.0) and np.allclose(a["b1"], 12.0)


def test_shadow_prices(result):
    sp = result.shadow_prices
    env = sp[(sp.constraint == "del_envelope") & (sp.category == "resource")]
    assert np.allclose(env.shadow_price, 2.5)
    floor = sp[sp.constraint == "programme_floor"]
    assert np.allclose(floor.shadow_price, 0.5)


def test_mission_path(result):
    m = result.missions.set_index("year")
    assert m.loc["2026-27", "value"] == pytest.approx(154.0)
    assert m.loc["2027-28", "value"] == pytest.approx(161.5)
    assert m.loc["2028-29", "value"] == pytest.approx(161.5)
    assert not m.loc["2029-30", "in_horizon"] and m.loc["2029-30", "gain"] == pytest.approx(7.5)


def test_envelope_shadow_price_is_marginal_value(tiny_copy):
    """Raising one year's envelope by £1m raises the optimum by the reported shadow price."""
    import pandas as pd

    f = pd.read_csv(tiny_copy / "fiscal.csv")
    f.loc[1, "rdel_envelope_gbp_m"] += 1.0
    f.to_csv(tiny_copy / "fiscal.csv", index=False)
    assert solve(load_instance(tiny_copy)).objective == pytest.approx(184.5 + 2.5)


def test_binding_by_family(result):
    from allocator.explain import binding_by_family

    fam = binding_by_family(result.shadow_prices).set_index("family")
    assert fam.loc["del_envelope", "binding"] == 3 and fam.loc["del_envelope", "rows"] == 6
    assert fam.loc["del_envelope", "max_shadow_price"] == pytest.approx(2.5)
    assert fam.loc["programme_floor", "max_shadow_price"] == pytest.approx(0.5)
    assert "b1" in fam.loc["programme_floor", "where"]
