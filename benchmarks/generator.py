"""Generate large, feasible, realistic instances in the instance format.

A generated instance is the shipped UK default scaled out: its settings, missions,
fiscal forecast and lag profiles are kept, and its 98 programmes are used as templates
for ``departments × programmes_per_department`` new ones. Each new programme copies a
template's category, PIE flag, lag profile, invest-to-save rate and response curve
(gains per £m times a random factor per mission, so every curve stays concave) and gets
a random share of the UK's DEL. Per-£m figures are therefore as in the default instance,
and total DEL is the UK's whatever the size, so the fiscal rules hold as they do in the
default (same fiscal.csv; each year's RDEL and CDEL envelopes scaled by the ratio of
generated to UK resource and capital baselines).

Feasibility: department baselines are the sums of their programmes' baselines (shared
programmes split equally between owners), RDEL/CDEL envelopes stand to the generated
baselines as the default's stand to the UK baselines, PIE floors are 90% of baseline PIE
spend, the rising PIE share starts at 97% of the baseline share and rises 0.2 points a
year, programme floors, caps and ramp limits are the template's scaled to the new
baseline, and the fiscal rules are the default's. Every size solves to optimality in
the tests and benchmarks (a generated instance is not guaranteed feasible for every
seed; the tests check the seeds they use).

Sizes (20 departments each; columns ≈ programmes × pieces × 10 years):

    small      20 × 10  =   200 programmes
    medium     20 × 25  =   500 programmes
    large      20 × 50  = 1,000 programmes
    x-large    20 × 200 = 4,000 programmes
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from allocator.io import load_instance
from allocator.schema import (Department, FiscalYear, Instance, LagWeight, Programme, Segment)

SIZES: dict[str, tuple[int, int]] = {
    "small": (20, 10),
    "medium": (20, 25),
    "large": (20, 50),
    "x-large": (20, 200),
}


def template_dir() -> Path:
    from allocator.api import default_instance_path

    return Path(str(default_instance_path()))


def generate(departments: int, per_department: int, seed: int = 0,
             template: Instance | None = None) -> Instance:
    """An :class:`Instance` with ``departments × per_department`` programmes (see module doc)."""
    rng = np.random.default_rng(seed)
    tpl = template or load_instance(template_dir())
    D, P = departments, departments * per_department
    tprogs = tpl.programmes
    segs_of: dict[str, list] = {}
    for s in tpl.segments:
        segs_of.setdefault(s.programme, []).append(s)
    uk_total = sum(d.rdel_baseline_gbp_m + d.cdel_baseline_gbp_m for d in tpl.departments)
    shares = rng.lognormal(0.0, 0.8, P)
    shares *= uk_total / shares.sum()

    dept_ids = [f"D{d + 1:02d}" for d in range(D)]
    programmes, segments = [], []
    base_by = np.zeros((D, 2))
    pie_by = np.zeros(D)
    for j in range(P):
        d = j // per_department
        t = tprogs[int(rng.integers(len(tprogs)))]
        b = round(float(shares[j]), 3)
        scale = b / t.baseline_gbp_m if t.baseline_gbp_m > 0 else 0.0
        owners = [dept_ids[d]]
        if len(t.owners) > 1 or rng.random() < 0.04:  # cross-cutting: a second owner
            owners.append(dept_ids[(d + 1 + int(rng.integers(D - 1))) % D])
        cat = 0 if t.category == "resource" else 1
        if len(owners) == 1:
            base_by[d, cat] += b
            if t.pie:
                pie_by[d] += b
        else:  # shared equally between the owners at baseline
            for o in owners:
                base_by[dept_ids.index(o), cat] += b / len(owners)

        def sc(v):
            return None if v is None else round(v * scale, 3)

        floor = min(sc(t.floor_gbp_m), b)
        cap = sc(t.cap_gbp_m)
        if cap is not None:
            cap = max(cap, b)
        ramp = sc(t.ramp_limit_gbp_m)
        pid = f"p{j + 1:05d}"
        programmes.append(Programme(
            id=pid, name=f"{t.name} ({dept_ids[d]} #{j % per_department + 1})", owners=owners,
            category=t.category, pie=t.pie, mission_fund_eligible=t.mission_fund_eligible,
            baseline_gbp_m=b, floor_gbp_m=floor, cap_gbp_m=cap, ramp_limit_gbp_m=ramp,
            lag_profile=t.lag_profile, ame_saving_per_gbp_m=t.ame_saving_per_gbp_m,
            description=f"generated from template {t.id}"))
        factor = {}
        for s in segs_of.get(t.id, []):
            f = factor.setdefault(s.mission, float(rng.lognormal(0.0, 0.3)))
            segments.append(Segment(programme=pid, mission=s.mission, segment=s.segment,
                                    width_gbp_m=max(round(s.width_gbp_m * scale, 3), 0.001),
                                    gain_per_gbp_m=s.gain_per_gbp_m * f))
    # department baselines (cash year 1 = real) and protections
    tfloors = [d.real_floor for d in tpl.departments]
    depts = []
    for d in range(D):
        depts.append(Department(
            id=dept_ids[d], name=f"Department {d + 1}",
            rdel_baseline_gbp_m=round(base_by[d, 0], 3), cdel_baseline_gbp_m=round(base_by[d, 1], 3),
            real_floor=float(rng.choice(tfloors)) if base_by[d].sum() > 0 else 0.0,
            pie_floor_gbp_m=round(0.9 * pie_by[d], 3)))
    # fiscal forecast: the default's, with envelopes scaled to the generated baselines
    uk_r = sum(d.rdel_baseline_gbp_m for d in tpl.departments)
    uk_c = sum(d.cdel_baseline_gbp_m for d in tpl.departments)
    ratio_r, ratio_c = base_by[:, 0].sum() / uk_r, base_by[:, 1].sum() / uk_c
    # (a year without a template envelope gets the previous envelope held flat in real terms,
    # so generated instances keep an envelope every year)
    fiscal = []
    prev = None
    for f in tpl.fiscal:
        row = f.model_dump()
        for col, ratio in (("rdel_envelope_gbp_m", ratio_r), ("cdel_envelope_gbp_m", ratio_c)):
            if row[col] is None:
                row[col] = round(prev[col] * row["deflator"] / prev["deflator"], 3)
            else:
                row[col] = round(row[col] * ratio, 3)
        fiscal.append(FiscalYear(**row))
        prev = row
    settings = tpl.settings.model_copy(deep=True)
    settings.comprehensive_metrics = []  # they name the template's programmes
    settings.name = f"generated_{D}x{per_department}_s{seed}"
    settings.title = f"Generated benchmark instance: {D} departments x {per_department} programmes"
    settings.description = (f"Generated by benchmarks/generator.py (seed {seed}) from the uk_missions "
                            "templates; synthetic, for benchmarking only.")
    # the rising PIE share: start below the generated baseline share, rise gently
    pie_base = sum(p.baseline_gbp_m for p in programmes if p.pie) / max(base_by.sum(), 1e-9)
    settings.pie.share_start = round(0.97 * pie_base, 5)
    settings.pie.share_increase_per_year = 0.002
    settings.pie.share_max = round(min(1.0, pie_base + 0.03), 5)
    return Instance(settings=settings, departments=depts, programmes=programmes,
                    segments=segments, lag_profiles=[LagWeight(**lw.model_dump())
                                                     for lw in tpl.lag_profiles],
                    fiscal=fiscal)


def generate_size(size: str, seed: int = 0) -> Instance:
    if size not in SIZES:
        raise KeyError(f"unknown size {size!r}; known: {list(SIZES)}")
    return generate(*SIZES[size], seed=seed)


def write_instance(inst: Instance, folder: Path) -> Path:
    """Write ``inst`` as an instance folder (instance.yaml + CSV tables) with a README."""
    from allocator.instance_writer import write_instance as write_folder

    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    write_folder(inst, folder)
    (folder / "README.md").write_text(
        f"# {inst.settings.title}\n\n{inst.settings.description}\n\n"
        "Every figure is synthetic: programmes are copies of uk_missions programmes with random "
        "sizes and effect factors. Do not use for policy analysis.\n")
    return folder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Write a generated benchmark instance folder.")
    ap.add_argument("size", choices=list(SIZES))
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    write_instance(generate_size(a.size, a.seed), a.out)
    print(a.out)


if __name__ == "__main__":
    main()
