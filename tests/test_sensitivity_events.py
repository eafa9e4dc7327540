"""Trigger events: validation messages and their effect on the fiscal forecast."""

import numpy as np
import pytest

from allocator import load_instance
from allocator.errors import InstanceError
from allocator.sensitivity.events import (EventsError, apply_events, base_fiscal,
                                          instance_with_events, load_events, parse_events)
from allocator.sensitivity.settings import sensitivity_settings


@pytest.fixture
def uk(uk_dir):
    return load_instance(uk_dir)


def test_shipped_events_file_is_valid(uk, uk_dir):
    ev = load_events(uk_dir / "events.yaml", uk)
    assert {e.kind for e in ev.events} == {"recession", "interest_rate_shock", "inflation_shock",
                                           "fiscal_windfall", "demand_shock"}
    assert sum(s.probability for s in ev.tree.scenarios) == pytest.approx(1.0)


def test_errors_name_file_field_and_value(tmp_path, tiny_dir):
    inst = load_instance(tiny_dir)
    p = tmp_path / "ev.yaml"
    p.write_text("events:\n  - {id: x, kind: recession, year: '2027-28', severity: -1}\n"
                 "  - {id: y, kind: demand_shock, department: Z, year: '2027-28', severity: 0.1}\n")
    with pytest.raises(EventsError) as e:
        load_events(p, inst)
    msg = str(e.value)
    assert str(p) in msg and "events.0.severity" in msg and "-1" in msg
    p.write_text("events:\n  - {id: y, kind: demand_shock, department: Z, year: '2027-28', severity: 0.1}\n"
                 "tree: {trigger_year: '2027-28', scenarios: [{id: a, probability: 0.5, events: [nope]}]}\n")
    with pytest.raises(EventsError) as e:
        load_events(p, inst)
    msg = str(e.value)
    assert "events.0.department" in msg and "'Z'" in msg
    assert "tree.scenarios" in msg and "sum to 1" in msg and "nope" in msg
    p.write_text("events:\n  - {id: q, kind: earthquake, year: '2027-28', severity: 1}\n")
    with pytest.raises(EventsError, match="earthquake"):
        load_events(p, inst)
    p.write_text("events: [\n")
    with pytest.raises(EventsError, match="not valid YAML"):
        load_events(p, inst)


def test_event_after_horizon_changes_no_fiscal_column(uk):
    base = base_fiscal(uk)
    for kind, extra in [("recession", {}), ("interest_rate_shock", {}), ("inflation_shock", {}),
                        ("fiscal_windfall", {}), ("demand_shock", {"department": "DHSC"})]:
        raw = [dict(id="e", kind=kind, year="2040-41", severity=0.3, **extra)]
        ev = parse_events(raw, "t")  # no instance: the horizon is not known yet
        new = apply_events(base, ev.events, uk.years, uk)
        for k in base:
            np.testing.assert_array_equal(np.nan_to_num(new[k]), np.nan_to_num(base[k]))
        # against the instance such an event is refused, naming file, field and value (issue 10)
        with pytest.raises(EventsError) as e:
            parse_events(raw, "t", uk)
        assert "t: field 'events.0.year': after the horizon end 2035-36 (value: '2040-41')" \
            in str(e.value)


def test_recession_that_makes_gdp_negative_is_refused(uk):
    """Y_t = Ŷ_t (1 − s φ_t): with the default re-plan multipliers up to 2, s = 0.5 reaches 0."""
    with pytest.raises(EventsError) as e:
        parse_events([dict(id="r", kind="recession", year="2029-30", severity=0.5)], "ev.yaml", uk)
    assert "ev.yaml: field 'events.0.severity'" in str(e.value) and "(value: 0.5)" in str(e.value)
    # outside the re-plan grid the multiplier is 1: 0.5 is then a possible (deep) recession
    ok = parse_events({"events": [dict(id="r", kind="recession", year="2029-30", severity=0.5),
                                  dict(id="w", kind="fiscal_windfall", year="2029-30", severity=0.1)],
                       "replan": {"events": ["w"]}}, "ev.yaml", uk)
    assert ok.event("r").severity == 0.5


def test_recession_arithmetic(uk):
    base = base_fiscal(uk)
    ev = parse_events([dict(id="r", kind="recession", year="2029-30", severity=0.02, duration=2,
                            persistence=0.5)], "t", uk)
    new = apply_events(base, ev.events, uk.years, uk)
    phi = np.array([0, 0, 0, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(new["gdp_gbp_m"], base["gdp_gbp_m"] * (1 - 0.02 * phi))
    np.testing.assert_allclose(new["receipts_gbp_m"], base["receipts_gbp_m"] * (1 - 0.02 * phi))
    dw = base["welfare_capped_gbp_m"] * 1.5 * 0.02 * phi
    np.testing.assert_allclose(new["ame_current_gbp_m"] - base["ame_current_gbp_m"], dw)


def test_inflation_shock_cuts_cash_fixed_envelopes(tiny_dir):
    inst = load_instance(tiny_dir)
    ev = parse_events([dict(id="i", kind="inflation_shock", year="2027-28", severity=25.0,
                            duration=1, persistence=1.0)], "t", inst)
    new = apply_events(base_fiscal(inst), ev.events, inst.years, inst)
    # 25% extra inflation: a cash envelope of 25 buys 20 at the base price path, and stays so
    np.testing.assert_allclose(new["rdel_envelope_gbp_m"], [25.0, 20.0, 20.0])


def test_instance_with_events_matches_arrays(tiny_dir):
    inst = load_instance(tiny_dir)
    ev = parse_events([dict(id="c", kind="demand_shock", department="A", year="2027-28",
                            severity=0.2)], "t", inst)
    changed = instance_with_events(inst, ev.events)
    assert [f.rdel_envelope_gbp_m for f in changed.fiscal] == [25.0, 20.0, 25.0]
    assert [f.ame_current_gbp_m for f in changed.fiscal] == [370.0, 380.0, 380.0]


def test_sensitivity_section_validation(tiny_dir):
    inst = load_instance(tiny_dir)
    assert sensitivity_settings(inst).discount_rate == [0.015, 0.05]
    data = inst.model_dump()
    data["settings"]["sensitivity"] = {"discount_rate": [0.9], "bogus": 1}
    bad = type(inst).model_validate(data)
    with pytest.raises(InstanceError) as e:
        sensitivity_settings(bad)
    msg = str(e.value)
    assert "instance.yaml" in msg and "sensitivity.discount_rate" in msg and "0.9" in msg
    assert "sensitivity.bogus" in msg
