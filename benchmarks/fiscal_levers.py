"""Measure each fiscal-side lever on the shipped default: the optimum with and without it.

    python -m benchmarks.fiscal_levers        # prints the README table (markdown)

Each row switches one family off (``constraints.<switch> = false``) and re-solves; the binding
rows of the default are listed with their shadow prices in words.
"""

from __future__ import annotations

from allocator import load_instance, solve
from allocator.api import default_instance_path

LEVERS = [
    ("stability rule", "stability_rule"),
    ("investment rule", "investment_rule"),
    ("welfare cap", "welfare_cap"),
    ("Barnett consequentials", "barnett"),
    ("debt-interest feedback", "debt_interest_feedback"),
    ("SR2025 settled totals", "settled_totals"),
    ("committed defence path", "committed_paths"),
]


def main() -> None:
    base_inst = load_instance(default_instance_path())
    base = solve(base_inst, explain=False)
    print(f"default: {base.status}, objective £{base.objective:,.0f}m")
    print("| lever | optimum with it (£m) | without it (£m) | value of the lever (without − with) |")
    print("|---|---|---|---|")
    for name, switch in LEVERS:
        inst = base_inst.model_copy(deep=True)
        setattr(inst.settings.constraints, switch, False)
        r = solve(inst, explain=False)
        obj = f"{r.objective:,.0f}" if r.objective is not None else r.status
        diff = f"{r.objective - base.objective:+,.0f}" if r.objective is not None else "—"
        print(f"| {name} | {base.objective:,.0f} | {obj} | {diff} |")
    sp = base.shadow_prices
    print()
    for fam in ("stability_rule", "investment_rule", "welfare_cap", "settled_total", "committed_path",
                "barnett", "del_envelope"):
        rows = sp[(sp.constraint == fam)]
        b = rows[rows.binding & (rows.shadow_price > 0)]
        if len(b):
            cells = ", ".join(f"{r.year}{(' ' + r.subject) if fam in ('settled_total', 'barnett', 'committed_path') else ''}"
                              f"{(' ' + r.category) if r.category else ''}: £{1000 * r.shadow_price:,.0f}m per £1bn"
                              for r in b.itertuples())
            print(f"- {fam} binds in {len(b)} of {len(rows)} rows — {cells}")
        elif len(rows):
            i = rows.slack.astype(float).idxmin()
            print(f"- {fam} does not bind: smallest margin £{rows.loc[i, 'slack']:,.0f}m in {rows.loc[i, 'year']}")
    f = base.fiscal.set_index("year")
    print()
    print(f.loc[:, ["rdel_gbp_m", "cdel_gbp_m", "current_balance_gbp_m", "investment_margin_gbp_m",
                    "debt_interest_feedback_gbp_m", "psnfl_gbp_m", "psnfl_pct_gdp",
                    "welfare_capped_gbp_m", "ame_saving_gbp_m"]].round(1).to_string())
    d = base.departments
    dv = d[d.department.isin(["SCOT", "WAL", "NIE"])].groupby("year")["barnett_consequential_gbp_m"].sum()
    print()
    print("Barnett consequentials, total devolved (£m):", dv.round(1).to_dict())


if __name__ == "__main__":
    main()
