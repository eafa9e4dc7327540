"""Cross-reference and shape checks on a parsed instance.

Single-row checks (types, signs, NaN/inf, unknown keys) are done by the pydantic
schema; this module checks what only the whole instance can show: ids unique and
known, response curves concave, lag profiles summing to <= 1, years on the horizon.
Row numbers are CSV line numbers (header = line 1), so they match the file a user opens.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from allocator.errors import InstanceError, Problem
from allocator.schema import parse_year_label

if TYPE_CHECKING:
    from allocator.schema import Instance

TOL = 1e-9


def _row(i: int) -> str:
    return f"row {i + 2}"


def _duplicates(items, key: str, file: str, problems: list[Problem]) -> set:
    seen = Counter(getattr(x, key) for x in items)
    ids = set()
    for i, x in enumerate(items):
        v = getattr(x, key)
        if seen[v] > 1:
            problems.append(Problem(file, f"{_row(i)}, field '{key}'", v, "duplicate id"))
        ids.add(v)
    return ids


def check_cross_references(inst: "Instance") -> None:
    """Raise :class:`InstanceError` listing every cross-reference problem found."""
    p: list[Problem] = []
    s = inst.settings
    years = s.horizon.labels
    yset = set(years)

    mission_ids = set()
    for i, m in enumerate(s.missions):
        if m.id in mission_ids:
            p.append(Problem("instance.yaml", f"field 'missions[{i}].id'", m.id, "duplicate id"))
        mission_ids.add(m.id)

    dept_ids = _duplicates(inst.departments, "id", "departments.csv", p)
    prog_ids = _duplicates(inst.programmes, "id", "programmes.csv", p)
    lag_ids = {lw.profile for lw in inst.lag_profiles}

    for i, prog in enumerate(inst.programmes):
        for o in prog.owners:
            if o not in dept_ids:
                p.append(Problem("programmes.csv", f"{_row(i)}, field 'owners'", o,
                                 f"unknown department (programme '{prog.id}')"))
        if len(set(prog.owners)) != len(prog.owners):
            p.append(Problem("programmes.csv", f"{_row(i)}, field 'owners'", ";".join(prog.owners),
                             "a department is listed twice"))
        if prog.lag_profile not in lag_ids:
            p.append(Problem("programmes.csv", f"{_row(i)}, field 'lag_profile'", prog.lag_profile,
                             "unknown lag profile"))

    # lag profiles: unique lags, sum <= 1
    sums: dict[str, float] = defaultdict(float)
    lag_seen: set = set()
    for i, lw in enumerate(inst.lag_profiles):
        if (lw.profile, lw.lag) in lag_seen:
            p.append(Problem("lags.csv", f"{_row(i)}, field 'lag'", lw.lag,
                             f"lag listed twice in profile '{lw.profile}'"))
        lag_seen.add((lw.profile, lw.lag))
        sums[lw.profile] += lw.weight
    for prof, total in sums.items():
        if total > 1 + 1e-6:
            p.append(Problem("lags.csv", f"profile '{prof}'", round(total, 6),
                             "lag weights sum to more than 1"))

    # segments: references, consecutive numbering, equal widths across missions, concavity
    curves: dict[tuple[str, str], list[tuple[int, float, float, int]]] = defaultdict(list)
    for i, seg in enumerate(inst.segments):
        if seg.programme not in prog_ids:
            p.append(Problem("segments.csv", f"{_row(i)}, field 'programme'", seg.programme,
                             "unknown programme"))
            continue
        if seg.mission not in mission_ids:
            p.append(Problem("segments.csv", f"{_row(i)}, field 'mission'", seg.mission,
                             "unknown mission"))
            continue
        curves[(seg.programme, seg.mission)].append((seg.segment, seg.width_gbp_m,
                                                     seg.gain_per_gbp_m, i))
    widths_by_prog: dict[str, dict[int, tuple[float, int, str]]] = defaultdict(dict)
    for (prog, mission), rows in curves.items():
        rows.sort()
        numbers = [r[0] for r in rows]
        if numbers != list(range(1, len(rows) + 1)):
            p.append(Problem("segments.csv", f"{_row(rows[0][3])}, field 'segment'", numbers,
                             f"segments of ({prog}, {mission}) must be numbered 1..n once each"))
            continue
        for (k, w, g, i), (_, _, g_prev, _) in zip(rows[1:], rows[:-1]):
            # relative tolerance: gains per £ (money_unit gbp) are 1e6 times smaller than per £m
            if g - g_prev > TOL * max(abs(g), abs(g_prev)):
                p.append(Problem("segments.csv", f"{_row(i)}, field 'gain_per_gbp_m'", g,
                                 f"non-concave response for ({prog}, {mission}): segment {k} gains "
                                 f"more per £m than segment {k - 1} ({g_prev})"))
        for k, w, g, i in rows:
            known = widths_by_prog[prog].get(k)
            if known is None:
                widths_by_prog[prog][k] = (w, i, mission)
            elif abs(known[0] - w) > 1e-6 * max(1.0, abs(w)):
                p.append(Problem("segments.csv", f"{_row(i)}, field 'width_gbp_m'", w,
                                 f"segment {k} of programme '{prog}' has width {known[0]} for mission "
                                 f"'{known[2]}'; every mission must use the same widths"))
    curves_of: dict[str, list] = defaultdict(list)  # per programme, in first-seen order
    for (pp, m), rows in curves.items():
        curves_of[pp].append((m, rows))
    for prog, by_k in widths_by_prog.items():
        ks = sorted(by_k)
        for m, rows in curves_of[prog]:
            if len(rows) != len(ks):
                p.append(Problem("segments.csv", f"{_row(rows[0][3])}, field 'segment'", len(rows),
                                 f"programme '{prog}' has {len(ks)} segments for another mission but "
                                 f"{len(rows)} for '{m}'"))

    _check_resources_and_groups(inst, prog_ids, yset, p)
    for i, prog in enumerate(inst.programmes):
        if prog.activity_unit is not None and (s.mode != "budget" or s.money_unit != "gbp_m"):
            p.append(Problem("programmes.csv", f"{_row(i)}, field 'activity_unit'", prog.activity_unit,
                             "a programme measured in activity (no money) needs mode 'budget' and "
                             "money_unit 'gbp_m' (UK rules and unit conversion count amounts as money)"))
    # demand pressures: known programme, years after the first horizon year, no overlaps
    covered_years: dict[str, set] = defaultdict(set)
    for i, pr in enumerate(inst.pressures):
        if pr.programme not in prog_ids:
            p.append(Problem("pressures.csv", f"{_row(i)}, field 'programme'", pr.programme,
                             "unknown programme"))
            continue
        bad = False
        for f in ("first_year", "last_year"):
            y = getattr(pr, f)
            if y not in yset:
                p.append(Problem("pressures.csv", f"{_row(i)}, field '{f}'", y,
                                 f"year is off the horizon {years[0]}..{years[-1]}"))
                bad = True
        if bad:
            continue
        if pr.first_year == years[0]:
            p.append(Problem("pressures.csv", f"{_row(i)}, field 'first_year'", pr.first_year,
                             "growth is from the year before; the first horizon year is the base "
                             "(baseline spend meets its demand), so start from the second year"))
            continue
        a, b = years.index(pr.first_year), years.index(pr.last_year)
        if b < a:
            p.append(Problem("pressures.csv", f"{_row(i)}, field 'last_year'", pr.last_year,
                             "last_year is before first_year"))
            continue
        span = set(range(a, b + 1))
        if span & covered_years[pr.programme]:
            p.append(Problem("pressures.csv", f"{_row(i)}, field 'first_year'", pr.first_year,
                             f"years overlap another row for programme '{pr.programme}'"))
        covered_years[pr.programme] |= span

    # invest to save inside DEL: known programmes, no chains (a target is never a source)
    sources = {r.programme for r in inst.invest_to_save}
    seen_pairs: set = set()
    for i, r in enumerate(inst.invest_to_save):
        for f in ("programme", "target"):
            if getattr(r, f) not in prog_ids:
                p.append(Problem("invest_to_save.csv", f"{_row(i)}, field '{f}'", getattr(r, f),
                                 "unknown programme"))
        if r.target == r.programme:
            p.append(Problem("invest_to_save.csv", f"{_row(i)}, field 'target'", r.target,
                             "a programme cannot save its own demand"))
        elif r.target in sources:
            p.append(Problem("invest_to_save.csv", f"{_row(i)}, field 'target'", r.target,
                             "a target cannot itself be a saving programme (no chains)"))
        if (r.programme, r.target) in seen_pairs:
            p.append(Problem("invest_to_save.csv", f"{_row(i)}, field 'target'", r.target,
                             f"pair ({r.programme}, {r.target}) listed twice"))
        seen_pairs.add((r.programme, r.target))

    # comprehensive metrics: unique ids, known missions and programmes
    groups = {m.group for m in s.missions} | mission_ids
    metric_ids: set = set()
    for j, cm in enumerate(s.comprehensive_metrics):
        if cm.id in metric_ids:
            p.append(Problem("instance.yaml", f"field 'comprehensive_metrics[{j}].id'", cm.id,
                             "duplicate id"))
        metric_ids.add(cm.id)
        if cm.mission not in groups:
            p.append(Problem("instance.yaml", f"field 'comprehensive_metrics[{j}].mission'",
                             cm.mission, "unknown mission"))
        if cm.floor_from is not None and cm.floor_from not in yset:
            p.append(Problem("instance.yaml", f"field 'comprehensive_metrics[{j}].floor_from'",
                             cm.floor_from, f"year is off the horizon {years[0]}..{years[-1]}"))
        for k, term in enumerate(cm.terms):
            if term.programme not in prog_ids:
                p.append(Problem("instance.yaml",
                                 f"field 'comprehensive_metrics[{j}].terms[{k}].programme'",
                                 term.programme, "unknown programme"))

    # fiscal table: each horizon year exactly once
    seen_years: Counter = Counter()
    for i, fy in enumerate(inst.fiscal):
        seen_years[fy.year] += 1
        if fy.year not in yset:
            p.append(Problem("fiscal.csv", f"{_row(i)}, field 'year'", fy.year,
                             f"year is off the horizon {years[0]}..{years[-1]}"))
        elif seen_years[fy.year] > 1:
            p.append(Problem("fiscal.csv", f"{_row(i)}, field 'year'", fy.year, "year listed twice"))
    for y in years:
        if seen_years[y] == 0:
            p.append(Problem("fiscal.csv", "field 'year'", y, "horizon year missing from the table"))
    for i, fy in enumerate(inst.fiscal):  # real figures are in first-year prices
        if fy.year == years[0] and abs(fy.deflator - 1.0) > 1e-9:
            p.append(Problem("fiscal.csv", f"{_row(i)}, field 'deflator'", fy.deflator,
                             f"the deflator of the first horizon year {years[0]} (the price base) "
                             "must be 1"))
    mf = s.mission_fund
    if mf.min_gbp_m > 0 and mf.max_share_of_del <= 0:
        p.append(Problem("instance.yaml", "field 'mission_fund.min_gbp_m'", mf.min_gbp_m,
                         "a Mission Fund minimum needs mission_fund.max_share_of_del above 0 (it is "
                         f"{mf.max_share_of_del}, which allows no fund); set a maximum share or "
                         "drop the minimum"))
    elif mf.min_gbp_m > 0 and s.constraints.mission_fund and not any(
            prog.mission_fund_eligible or len(set(prog.owners)) > 1 for prog in inst.programmes):
        p.append(Problem("instance.yaml", "field 'mission_fund.min_gbp_m'", mf.min_gbp_m,
                         "a Mission Fund minimum needs a programme it can fund (two or more owners "
                         "in programmes.csv, or mission_fund_eligible true); there is none"))
    # envelope mode: an empty envelope cell is a year with no envelope (the fiscal rules govern)
    if s.mode == "envelope" and s.constraints.del_envelope and all(
            fy.rdel_envelope_gbp_m is None and fy.cdel_envelope_gbp_m is None for fy in inst.fiscal):
        p.append(Problem("fiscal.csv", "fields 'rdel_envelope_gbp_m', 'cdel_envelope_gbp_m'", None,
                         "envelope mode needs a DEL envelope in at least one year"))
    fr = s.fiscal_rules
    if s.constraints.debt_interest_feedback and fr.debt_interest_rate > 0:
        for i, fy in enumerate(inst.fiscal):
            if fy.psnfl_forecast_gbp_m is None:
                p.append(Problem("fiscal.csv", f"{_row(i)}, field 'psnfl_forecast_gbp_m'", None,
                                 "debt-interest feedback (fiscal_rules.debt_interest_rate > 0) needs "
                                 "the forecast PSNFL path every year"))
    if fr.receipts_feedback_rate > 0 and fr.receipts_feedback_mission not in mission_ids:
        p.append(Problem("instance.yaml", "field 'fiscal_rules.receipts_feedback_mission'",
                         fr.receipts_feedback_mission, "receipts feedback needs a known mission id "
                         "(the growth mission, metric = GDP index)"))
    if fr.welfare_cap_years is not None:
        caps = {fy.year: fy.welfare_cap_gbp_m for fy in inst.fiscal}
        for j, y in enumerate(fr.welfare_cap_years):
            if y in caps and caps[y] is None:
                p.append(Problem("fiscal.csv", "field 'welfare_cap_gbp_m'", y,
                                 f"fiscal_rules.welfare_cap_years[{j}] enforces the cap in {y}, "
                                 "which has no cap figure"))

    # devolved funding, settled totals, committed paths: known departments and years
    seen_b: set = set()
    for i, b in enumerate(inst.barnett):
        for f in ("devolved", "department"):
            if getattr(b, f) not in dept_ids:
                p.append(Problem("barnett.csv", f"{_row(i)}, field '{f}'", getattr(b, f),
                                 "unknown department"))
        if (b.devolved, b.department) in seen_b:
            p.append(Problem("barnett.csv", f"{_row(i)}, field 'department'", b.department,
                             f"listed twice for '{b.devolved}'"))
        seen_b.add((b.devolved, b.department))
    devolved = {b.devolved for b in inst.barnett}
    for i, b in enumerate(inst.barnett):
        if b.department in devolved:
            p.append(Problem("barnett.csv", f"{_row(i)}, field 'department'", b.department,
                             "a devolved department cannot drive a Barnett consequential"))
    for file, rows in (("settled.csv", inst.settled), ("committed.csv", inst.committed)):
        seen_s: set = set()
        for i, r in enumerate(rows):
            key = (r.department, r.year, getattr(r, "category", ""))
            if r.department not in dept_ids:
                p.append(Problem(file, f"{_row(i)}, field 'department'", r.department,
                                 "unknown department"))
            if r.year not in yset:
                p.append(Problem(file, f"{_row(i)}, field 'year'", r.year,
                                 f"year is off the horizon {years[0]}..{years[-1]}"))
            if key in seen_s:
                p.append(Problem(file, f"{_row(i)}, field 'year'", r.year,
                                 f"department '{r.department}' listed twice for this year"
                                 + (f" and category '{key[2]}'" if key[2] else "")))
            seen_s.add(key)

    # years named in instance.yaml must lie on the horizon
    def _years(field: str, labels) -> None:
        for j, y in enumerate(labels or []):
            if y not in yset:
                p.append(Problem("instance.yaml", f"field '{field}[{j}]'", y,
                                 f"year is off the horizon {years[0]}..{years[-1]}"))

    _years("fiscal_rules.stability_rule.target_years", fr.stability_rule.target_years)
    _years("fiscal_rules.investment_rule.target_years", fr.investment_rule.target_years)
    _years("fiscal_rules.welfare_cap_years", fr.welfare_cap_years)
    if s.price_base is not None and s.price_base != years[0]:
        p.append(Problem("instance.yaml", "field 'price_base'", s.price_base,
                         f"the price base must be the first horizon year {years[0]}"))

    # spending review periods: on the horizon, ordered, contiguous, covering every year
    pos = {y: i for i, y in enumerate(years)}
    covered: list[str] = []
    for j, per in enumerate(s.spending_reviews):
        bad = False
        for f in ("start", "end"):
            if getattr(per, f) not in yset:
                p.append(Problem("instance.yaml", f"field 'spending_reviews[{j}].{f}'",
                                 getattr(per, f), f"year is off the horizon {years[0]}..{years[-1]}"))
                bad = True
        if bad:
            continue
        if parse_year_label(per.end) < parse_year_label(per.start):
            p.append(Problem("instance.yaml", f"field 'spending_reviews[{j}].end'", per.end,
                             "period ends before it starts"))
            continue
        covered.extend(years[pos[per.start]: pos[per.end] + 1])
    if covered and covered != years:
        p.append(Problem("instance.yaml", "field 'spending_reviews'",
                         [f"{q.start}..{q.end}" for q in s.spending_reviews],
                         "periods must be in order and cover every horizon year exactly once"))

    if p:
        raise InstanceError(p)


def check_run_sections(inst: "Instance", folder=None, events=None) -> list[str]:
    """Check every section the run commands read beyond the core model: ``uncertainty``
    (with ``certainty``, ``workforce_lag_profiles``, ``planning``) for ``cycles``,
    ``sensitivity`` for the sweep, and the events file (``events``, or the instance
    folder's ``events.yaml``) for ``sensitivity``. Raises the first section's error (naming
    file, field and value); returns the names of the sections checked."""
    from pathlib import Path

    from allocator.cycles.settings import uncertainty_settings
    from allocator.numerics import to_gbp_m
    from allocator.sensitivity.events import load_events
    from allocator.sensitivity.settings import sensitivity_settings

    checked = ["instance"]
    m = to_gbp_m(inst)
    uncertainty_settings(m)
    checked.append("uncertainty")
    sensitivity_settings(m)
    checked.append("sensitivity")
    if events is None and folder is not None and Path(folder).is_dir() \
            and (Path(folder) / "events.yaml").is_file():
        events = Path(folder) / "events.yaml"
    if events is not None:
        load_events(events, m)
        checked.append(f"events ({events})")
    return checked


def _check_resources_and_groups(inst: "Instance", prog_ids: set, yset: set, p: list[Problem]) -> None:
    """resources.csv, resource_limits.csv, resource_use.csv, groups.csv, group_members.csv and
    ratios.csv: unique ids, known references, each pair listed once."""
    res_ids = _duplicates(inst.resources, "id", "resources.csv", p)
    seen: set = set()
    for i, rl in enumerate(inst.resource_limits):
        f = "resource_limits.csv"
        if rl.resource not in res_ids:
            p.append(Problem(f, f"{_row(i)}, field 'resource'", rl.resource, "unknown resource"))
        if rl.year not in yset:
            p.append(Problem(f, f"{_row(i)}, field 'year'", rl.year, "year is off the horizon"))
        if (rl.resource, rl.year) in seen:
            p.append(Problem(f, f"{_row(i)}, field 'year'", rl.year,
                             f"year listed twice for resource '{rl.resource}'"))
        seen.add((rl.resource, rl.year))
    seen = set()
    for i, u in enumerate(inst.resource_use):
        f = "resource_use.csv"
        if u.programme not in prog_ids:
            p.append(Problem(f, f"{_row(i)}, field 'programme'", u.programme, "unknown programme"))
        if u.resource not in res_ids:
            p.append(Problem(f, f"{_row(i)}, field 'resource'", u.resource, "unknown resource"))
        if (u.programme, u.resource) in seen:
            p.append(Problem(f, f"{_row(i)}, field 'resource'", u.resource,
                             f"programme '{u.programme}' lists this resource twice"))
        seen.add((u.programme, u.resource))
    group_ids = _duplicates(inst.groups, "id", "groups.csv", p)
    seen = set()
    for i, g in enumerate(inst.group_members):
        f = "group_members.csv"
        if g.group not in group_ids:
            p.append(Problem(f, f"{_row(i)}, field 'group'", g.group, "unknown group (groups.csv)"))
        if g.programme not in prog_ids:
            p.append(Problem(f, f"{_row(i)}, field 'programme'", g.programme, "unknown programme"))
        if (g.group, g.programme) in seen:
            p.append(Problem(f, f"{_row(i)}, field 'programme'", g.programme,
                             f"listed twice in group '{g.group}'"))
        seen.add((g.group, g.programme))
    members = {g.group for g in inst.group_members}
    for i, g in enumerate(inst.groups):
        if g.id not in members:
            p.append(Problem("groups.csv", f"{_row(i)}, field 'id'", g.id,
                             "group has no members in group_members.csv"))
    _duplicates(inst.ratios, "id", "ratios.csv", p)
    for i, r in enumerate(inst.ratios):
        for fld in ("programme", "of"):
            if getattr(r, fld) not in prog_ids:
                p.append(Problem("ratios.csv", f"{_row(i)}, field '{fld}'", getattr(r, fld),
                                 "unknown programme"))
        if r.programme == r.of:
            p.append(Problem("ratios.csv", f"{_row(i)}, field 'of'", r.of,
                             "a ratio needs two different programmes"))
