"""Demand-side levers on the shipped default: the optimum with and without each lever.

    python -m benchmarks.demand_levers [instance folder]

Prints the objective (in-horizon / terminal), the core-metric changes in the final year,
and the value of pressures, demand floors, invest to save (AME and DEL), PIE protection,
the Mission Fund and persistence, each as the optimum with the lever minus without it.
The README section "Demand side" quotes its output.
"""

from __future__ import annotations

import sys

import pandas as pd

from allocator import load_instance, solve
from allocator.appraise import appraise


def _run(inst, label):
    r = solve(inst, explain=False)
    assert r.status == "optimal", (label, r.status)
    m = r.missions
    fin = m[m.year == inst.years[-1]].set_index("mission")["gain"]
    return dict(case=label, objective=r.objective, in_horizon=r.objective_in_horizon,
                terminal=r.objective_terminal, **{f"gain_{k}": v for k, v in fin.items()})


def variants(base):
    def v(label, f):
        inst = base.model_copy(deep=True)
        f(inst)
        return inst, label

    def no_pie(i):
        i.settings.constraints.pie_share = False
        i.settings.constraints.pie_department_floor = False

    def no_mf(i):
        i.settings.constraints.mission_fund = False

    def no_ame(i):
        for p in i.programmes:
            p.ame_saving_per_gbp_m = 0.0

    def no_del(i):
        i.invest_to_save = []

    def no_its(i):
        no_ame(i)
        no_del(i)

    def no_press(i):
        i.pressures = []

    def no_floor(i):
        i.settings.constraints.demand_floors = False

    def no_fade(i):
        i.settings.persistence.terminal_fade_per_year = 0.0
        i.settings.persistence.terminal_years = None

    return [v("default", lambda i: None), v("without PIE protection", no_pie),
            v("without the Mission Fund", no_mf), v("without invest to save (AME)", no_ame),
            v("without invest to save (DEL)", no_del), v("without invest to save (both)", no_its),
            v("without demand pressures", no_press), v("without demand floors", no_floor),
            v("without persistence fade", no_fade)]


def flat_real(inst):
    fy = {f.year: f.deflator for f in inst.fiscal}
    rows = [dict(year=y, programme=p.id, department=p.owners[0], funding="department",
                 spend_gbp_m=p.baseline_gbp_m * fy[y]) for y in inst.years for p in inst.programmes]
    app = appraise(inst, pd.DataFrame(rows), optimise=False)
    return app.missions.set_index("mission")[["gain_final_year", "value"]]


def main(folder: str = "instances/uk_missions") -> None:
    base = load_instance(folder)
    rows = [_run(inst, label) for inst, label in variants(base)]
    df = pd.DataFrame(rows).set_index("case")
    d0 = df.loc["default", "objective"]
    df["lever_value"] = d0 - df["objective"]
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    print(df.round(4).to_string())
    print("\nflat-real plan (baseline real spend every year) appraised against the default:")
    print(flat_real(base).round(4).to_string())


if __name__ == "__main__":
    main(*sys.argv[1:])
