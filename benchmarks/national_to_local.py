"""National-to-local instances: the default's programmes split across the areas that deliver them.

The missions are delivered locally. This generator takes the shipped UK default
(``instances/uk_missions``) and splits each locally delivered programme across the areas of
its delivery geography, by need-based shares; programmes delivered nationally (defence,
HMRC, block grants, R&D …) stay whole. Department totals, the fiscal forecast, the
missions and every rule are unchanged, so a national-to-local instance is the default
instance seen at local resolution.

Geographies (England, or England and Wales for police):

    icb     42 integrated care boards (NHS England, July 2022)                 — NHS services
    police  43 territorial police forces in England and Wales                 — policing
    utla    153 upper-tier local authorities (counties, unitaries, metropolitan
            and London boroughs)                                               — councils' services

(43 forces: Home Office *Police workforce, England and Wales: 31 March 2025*, in
/work/shared/data/uk_public_figures.md. 42 ICBs and 153 upper-tier authorities are not in
that file: ASSUMPTION, from the NHS England and MHCLG lists as of 2025; the issue's "about
150". Which programme is delivered through which geography is in :data:`GEOGRAPHY_OF`,
an ASSUMPTION by programme description.)

``subdivisions = k`` splits every local area further into ``k`` neighbourhoods (places
within an ICB, districts within a county, basic command units within a force: ASSUMPTION,
synthetic), which is how the instance grows to 50,000 programmes and millions of columns.

Need-based shares (all synthetic, ASSUMPTION; no per-area table is available offline):
an area's share of a programme is population × need index, normalised to sum to one.
Populations are log-normal around each geography's mean size with the spread of the real
lists (log-sd 0.45 for ICBs, about 0.5m to 3.2m people; 0.6 for police forces and
upper-tier authorities, whose sizes run from under 0.1m to several million); the need
index is log-normal with log-sd 0.15 (deprivation and age structure move need per head by
roughly ±15%). Real shares would come from the allocation formulas built for exactly this:
NHS England's ICB target allocations, the police funding formula and the local government
relative needs formulas. Neighbourhood shares inside an area are drawn the same way.

What a local copy of programme p in area a gets (s = a's share of p):
baseline, floor, cap, ramp limit, demand floor and segment widths × s; gains per £m × the
area's need index ^ 0.5 (more need, a little more gain per £m: ASSUMPTION), normalised so
that the share-weighted mean factor is 1; the same owners, category, PIE flag, lag profile,
Mission Fund eligibility, pressures and resource use per £m. Comprehensive metrics keep
their meaning (a term on p becomes the same term on every copy, which sums to p's).
Invest-to-save links: a local programme saves on the same area's copy of its target when
both use the same geography; across geographies it saves on the target area holding the
same point of the population order (a synthetic co-terminosity: ASSUMPTION); a local
programme saving on a national target keeps its rate; a national programme saving on a
split target saves on each copy at rate × the copy's share, which sums to the national
rate. Groups, ratios and all-or-nothing business cases are not in the default and are not
generated.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from allocator.io import load_instance
from allocator.schema import Instance

#: Number of areas per geography (see the module docstring for sources and assumptions).
AREAS = {"icb": 42, "police": 43, "utla": 153}
#: Log-sd of area populations (ASSUMPTION, from the spread of the real lists).
POPULATION_LOG_SD = {"icb": 0.45, "police": 0.6, "utla": 0.6}
NEED_LOG_SD = 0.15  # ASSUMPTION: need per head varies by about ±15% between areas
GAIN_NEED_ELASTICITY = 0.5  # ASSUMPTION: gain per £m rises with the square root of need

#: Delivery geography of each locally delivered default programme (ASSUMPTION, by the
#: programme's description); every other programme is delivered nationally and stays whole.
GEOGRAPHY_OF = {
    **dict.fromkeys([
        "nhs_acute", "nhs_primary_care", "nhs_primary_prevention", "nhs_community",
        "neighbourhood_health", "nhs_mental_health", "mh_early_support", "vaccination_screening",
        "nhs_other", "nhs_capital_hospitals", "nhs_capital_diagnostics_tech",
        "neighbourhood_health_centres", "inactivity_health_work"], "icb"),
    **dict.fromkeys([
        "police_core", "neighbourhood_policing", "serious_violence_prevention", "police_capital",
        "youth_diversion", "probation_rehabilitation"], "police"),
    **dict.fromkeys([
        "public_health_grant", "tobacco_obesity", "social_care_prevention", "schools_core",
        "send_high_needs", "early_years_entitlements", "breakfast_wraparound",
        "childrens_social_care_prevention", "family_hubs", "schools_capital",
        "early_years_capital", "lg_core_services", "temporary_accommodation",
        "homelessness_prevention", "local_growth_regeneration", "social_affordable_housing",
        "healthy_homes", "crisis_support", "youth_services", "healthy_start_expansion",
        "place_based_prevention_pilots", "employment_support", "youth_guarantee"], "utla"),
}


def template() -> Instance:
    from allocator.api import default_instance_path

    return load_instance(default_instance_path())


def area_shares(geography: str, areas: int, subdivisions: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """(shares, need index) of the ``areas × subdivisions`` local units of a geography, in
    area-major order: share ∝ population × need, Σ shares = 1 (see the module docstring)."""
    pop = rng.lognormal(0.0, POPULATION_LOG_SD[geography], areas)
    need = rng.lognormal(0.0, NEED_LOG_SD, areas)
    if subdivisions > 1:
        sub_pop = rng.lognormal(0.0, POPULATION_LOG_SD[geography], (areas, subdivisions))
        sub_pop *= (pop / sub_pop.sum(axis=1))[:, None]
        sub_need = need[:, None] * rng.lognormal(0.0, NEED_LOG_SD, (areas, subdivisions))
        pop, need = sub_pop.ravel(), sub_need.ravel()
    weight = pop * need
    return weight / weight.sum(), need


def generate(subdivisions: int = 1, seed: int = 0, areas: dict[str, int] | None = None,
             tpl: Instance | None = None, unique_plan: bool = True) -> Instance:
    """The default instance with its local programmes split across areas (module docstring).

    The default's solver time limit is removed (a benchmark solves to optimality);
    ``unique_plan=False`` switches off the second stage that makes the plan unique.
    ``areas`` overrides the number of areas per geography (tests use a few); the number of
    programmes is (national programmes) + Σ_g (programmes on g) × areas_g × subdivisions."""
    rng = np.random.default_rng(seed)
    tpl = tpl or template()
    counts = dict(AREAS, **(areas or {}))
    units = {g: counts[g] * subdivisions for g in counts}
    shares, need = {}, {}
    for g in sorted(counts):
        shares[g], need[g] = area_shares(g, counts[g], subdivisions, rng)
    # gain factor per unit: need ** elasticity, share-weighted mean 1 (the national curve on average)
    gain_factor = {}
    for g in shares:
        f = need[g] ** GAIN_NEED_ELASTICITY
        gain_factor[g] = f / float(shares[g] @ f)

    progs = {p.id: p for p in tpl.programmes}
    geo = {pid: g for pid, g in GEOGRAPHY_OF.items() if pid in progs}
    cum_mid = {g: np.cumsum(shares[g]) - shares[g] / 2 for g in shares}  # position in population order

    def copies(pid: str) -> list[tuple[str, float, int]]:
        """(new id, share, unit index) of every copy of programme ``pid``."""
        g = geo.get(pid)
        if g is None:
            return [(pid, 1.0, -1)]
        return [(f"{pid}@{g}{u + 1:04d}", float(shares[g][u]), u) for u in range(units[g])]

    def scaled(v, s):
        return None if v is None else v * s

    programmes, segments, pressures, resource_use = [], [], [], []
    segs_of: dict[str, list] = {}
    for sg in tpl.segments:
        segs_of.setdefault(sg.programme, []).append(sg)
    copies_of = {pid: copies(pid) for pid in progs}
    for pid, p in progs.items():
        g = geo.get(pid)
        for nid, s, u in copies_of[pid]:
            if g is None:
                programmes.append(p)
                continue
            programmes.append(p.model_copy(update={
                "id": nid, "name": f"{p.name} ({g} {u + 1})",
                "baseline_gbp_m": p.baseline_gbp_m * s, "floor_gbp_m": p.floor_gbp_m * s,
                "cap_gbp_m": scaled(p.cap_gbp_m, s), "ramp_limit_gbp_m": scaled(p.ramp_limit_gbp_m, s),
                "demand_floor_gbp_m": scaled(p.demand_floor_gbp_m, s),
                "description": f"{pid} delivered in {g} unit {u + 1} (share {s:.5f}); generated"}))
            f = float(gain_factor[g][u])
            for sg in segs_of.get(pid, []):
                segments.append(sg.model_copy(update={"programme": nid, "width_gbp_m": sg.width_gbp_m * s,
                                                      "gain_per_gbp_m": sg.gain_per_gbp_m * f}))
        if g is None:
            segments.extend(segs_of.get(pid, []))
    for r in tpl.pressures:
        pressures.extend(r.model_copy(update={"programme": nid}) for nid, _, _ in copies_of[r.programme])
    for r in tpl.resource_use:
        resource_use.extend(r.model_copy(update={"programme": nid})
                            for nid, _, _ in copies_of[r.programme])
    its = []
    for r in tpl.invest_to_save:
        src, tgt = copies_of[r.programme], copies_of[r.target]
        gs, gt = geo.get(r.programme), geo.get(r.target)
        if gt is None:  # national target: every copy saves on it at the same rate
            its.extend(r.model_copy(update={"programme": nid}) for nid, _, _ in src)
        elif gs is None:  # national programme, split target: rate x the target copy's share
            its.extend(r.model_copy(update={"target": tid, "saving_per_gbp_m": r.saving_per_gbp_m * ts})
                       for tid, ts, _ in tgt)
        else:  # both local: the same unit, or the target unit at the same population position
            for nid, _, u in src:
                v = u if gs == gt else int(np.searchsorted(np.cumsum(shares[gt]), cum_mid[gs][u]))
                its.append(r.model_copy(update={"programme": nid,
                                                "target": tgt[min(v, len(tgt) - 1)][0]}))
    settings = tpl.settings.model_copy(deep=True)
    settings.solver.time_limit_s = None  # a benchmark solves to optimality, however long it takes
    if not unique_plan:
        settings.unique_plan.enabled = False
    for m in settings.comprehensive_metrics:
        m.terms = [t.model_copy(update={"programme": nid}) for t in m.terms
                   for nid, _, _ in copies_of[t.programme]]
    cert = (settings.uncertainty or {}).get("certainty")
    if isinstance(cert, dict):  # programme ids named in the cycles settings follow the split
        if "infrastructure_programmes" in cert:
            cert["infrastructure_programmes"] = [nid for pid in cert["infrastructure_programmes"]
                                                 for nid, _, _ in copies_of[pid]]
        if isinstance(cert.get("programmes"), dict):
            cert["programmes"] = {nid: v for pid, v in cert["programmes"].items()
                                  for nid, _, _ in copies_of[pid]}
    settings.name = f"national_to_local_k{subdivisions}_s{seed}"
    settings.title = (f"National-to-local benchmark instance: uk_missions across "
                      f"{counts['icb']} ICBs, {counts['police']} police forces and {counts['utla']} "
                      f"upper-tier authorities" + (f", {subdivisions} neighbourhoods each" if subdivisions > 1 else ""))
    settings.description = (f"Generated by benchmarks/national_to_local.py (subdivisions {subdivisions}, "
                            f"seed {seed}); synthetic need-based shares, for benchmarking only.")
    return Instance(settings=settings, departments=tpl.departments, programmes=programmes,
                    segments=segments, lag_profiles=tpl.lag_profiles, fiscal=tpl.fiscal,
                    resources=tpl.resources, resource_limits=tpl.resource_limits,
                    resource_use=resource_use, groups=tpl.groups, group_members=tpl.group_members,
                    ratios=tpl.ratios, pressures=pressures, invest_to_save=its, barnett=tpl.barnett,
                    settled=tpl.settled, committed=tpl.committed)


def programme_count(subdivisions: int, areas: dict[str, int] | None = None,
                    tpl: Instance | None = None) -> int:
    """Programmes of ``generate(subdivisions, areas=areas)`` without building it."""
    tpl = tpl or template()
    counts = dict(AREAS, **(areas or {}))
    return sum(counts[GEOGRAPHY_OF[p.id]] * subdivisions if p.id in GEOGRAPHY_OF else 1
               for p in tpl.programmes)


def write_instance(inst: Instance, folder: Path) -> Path:
    """Write ``inst`` as an instance folder with a README saying it is synthetic."""
    from benchmarks.generator import write_instance as write

    folder = write(inst, folder)
    (folder / "README.md").write_text(
        f"# {inst.settings.title}\n\n{inst.settings.description}\n\n"
        "The uk_missions default with its locally delivered programmes split across local areas "
        "by synthetic need-based shares (benchmarks/national_to_local.py says how). Department "
        "totals and the fiscal forecast are the default's. Do not use for policy analysis.\n")
    return folder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write a national-to-local benchmark instance folder.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--subdivisions", type=int, default=1, help="neighbourhoods per local area")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    inst = generate(a.subdivisions, a.seed)
    write_instance(inst, a.out)
    print(f"{a.out}: {len(inst.programmes):,} programmes")


if __name__ == "__main__":
    main()
