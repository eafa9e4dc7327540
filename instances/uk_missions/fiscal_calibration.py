"""Derivation of the default instance's fiscal tables from the OBR March 2026 forecast.

Run ``python instances/uk_missions/fiscal_calibration.py`` to rewrite ``fiscal.csv``,
``settled.csv``, ``committed.csv`` and ``barnett.csv`` from the published figures below
(£bn cash; sources and confidence in SOURCES.md, "fiscal.csv"). Every number that is not
published is labelled ASSUMPTION or CALIBRATED here and in SOURCES.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent
YEARS = [f"{y}-{(y + 1) % 100:02d}" for y in range(2026, 2036)]
OBR = 5  # 2026-27 .. 2030-31 are OBR March 2026 forecast years; later years are extrapolated

# ---- OBR Economic and fiscal outlook, March 2026 (third-party transcription; £bn) ----------
GDP = [3165.0, 3273.8, 3389.5, 3510.6, 3632.3]          # transcriber-derived nominal GDP
GDP_2025_26 = 3056.9
RECEIPTS = [1304, 1375, 1427, 1492, 1551]                # Table 3.2 current receipts
CURRENT_SURPLUS = [-33.9, -4.6, 3.3, 23.6, 30.3]         # Table 5.1 (deficit 33.9 .. −30.3)
PSNFL = [2661, 2765, 2859, 2932, 2999]                   # Table 5.6
PSNFL_2025_26 = 2554
WELFARE_TOTAL = [352.8, 363.1, 373.8, 389.9, 406.9]      # Table 4.6
WELFARE_IN_CAP = [177.7, 184.2, 191.3, 199.2, 207.0]     # Table 4.6
DEBT_INTEREST = [109.4, 116.7, 125.9, 134.7, 137.1]      # Table 4.8, net of APF
OBR_RDEL = [548.2, 563.7, 581.8, 594.2, 614.2]           # Table 4.4 (growth rates used only)
OBR_CDEL = [122.5, 132.8, 132.8, 134.2, 138.1]           # Table 4.4 (growth rates used only)
WELFARE_CAP_2029_30 = 194.5                              # Autumn Budget 2024 (IfG)

# ---- Spending Review 2025 (HM Treasury, June 2025), tables 5.3 / 5.4, £bn ------------------
SR_RDEL = [535.5, 551.6, 567.8]                          # 2026-27 .. 2028-29 totals
SR_CDEL = [142.7, 145.3, 149.1, 151.9]                   # 2026-27 .. 2029-30 totals
# department -> RDEL 2026-27..2028-29 (model departments; MHCLG = LG + H&C; SMALL = Law
# Officers + small bodies, and takes the rounding residual to the published total)
RDEL = {
    "DHSC": [211.0, 221.3, 232.0], "DfE": [98.3, 100.1, 101.5], "HO": [20.9, 20.4, 20.6],
    "MoJ": [12.6, 12.9, 13.2], "MOD": [39.6, 41.0, 42.0], "SIA": [3.2, 3.4, 3.6],
    "FCDO": [6.6, 7.0, 7.1], "MHCLG": [15.4 + 4.2, 15.6 + 4.2, 15.8 + 4.2], "DCMS": [1.6, 1.6, 2.0],
    "DSIT": [0.8, 0.8, 0.7], "DfT": [8.1, 7.7, 7.5], "DESNZ": [2.0, 2.0, 1.7],
    "DEFRA": [4.8, 4.7, 4.7], "DBT": [1.9, 1.8, 1.8], "DWP": [10.8, 11.0, 10.9],
    "HMRC": [6.4, 6.5, 6.4], "HMT": [0.4, 0.4, 0.4], "CO": [1.0, 1.2, 1.0],
    "SCOT": [42.7, 43.8, 45.0], "WAL": [18.4, 18.9, 19.4], "NIE": [16.3, 16.8, 17.3],
    "SMALL": [1.1 + 3.1, 1.1 + 3.0, 1.1 + 2.9], "RES": [4.3, 4.3, 4.7],
}
# department -> CDEL 2026-27..2029-30 (DfT incl. HS2, DESNZ incl. Sizewell C; SMALL residual)
CDEL = {
    "DHSC": [14.0, 13.5, 14.8, 14.6], "DfE": [8.3, 7.7, 7.7, 7.7], "HO": [1.7, 1.7, 1.7, 1.7],
    "MoJ": [2.3, 2.3, 2.3, 2.0], "MOD": [25.9, 30.0, 31.5, 33.2], "SIA": [1.9, 1.7, 1.8, 1.6],
    "FCDO": [3.2, 2.2, 2.7, 3.0], "MHCLG": [9.8, 9.2, 9.2, 9.5], "DCMS": [0.7, 0.7, 0.7, 0.7],
    "DSIT": [15.1, 15.7, 15.8, 16.2], "DfT": [17.0 + 7.1, 17.3 + 7.1, 18.3 + 5.6, 19.6 + 5.5],
    "DESNZ": [8.0 + 2.9, 9.1 + 3.2, 10.9 + 2.5, 11.3 + 2.8], "DEFRA": [2.8, 2.8, 2.8, 2.7],
    "DBT": [1.8, 2.0, 2.0, 1.9], "DWP": [1.0, 0.8, 0.6, 0.5], "HMRC": [0.9, 0.6, 0.5, 0.3],
    "HMT": [0.8, 0.1, 0.1, 0.1], "CO": [0.6, 0.5, 0.3, 0.2], "SCOT": [7.1, 7.0, 7.1, 7.1],
    "WAL": [3.6, 3.5, 3.5, 3.5], "NIE": [2.4, 2.4, 2.4, 2.4], "RES": [2.4, 2.4, 2.4, 2.3],
}

# ---- ASSUMPTIONS kept from the previous calibration (SOURCES.md) ---------------------------
DEFLATOR_GROWTH = 0.02            # 2% inflation target
DEPRECIATION_2026_27, DEPRECIATION_GROWTH = 60.0, 0.04
AME_CAPITAL_SHARE = 0.006         # capital AME, share of GDP
# SR2025 capital settlements are not fixed: the instance's capital programme floors and ramps
# (programmes.csv) cannot follow SR2025's year-to-year capital profile (README, "Settled totals")
FIXED = {"DHSC", "DfE", "HO", "MoJ", "MOD", "MHCLG", "DWP"}  # resource settlements imposed


def build():
    T = len(YEARS)
    gdp_growth = GDP[-1] / GDP[-2]                           # held after 2030-31 (ASSUMPTION)
    gdp = GDP + [GDP[-1] * gdp_growth ** (k + 1) for k in range(T - OBR)]
    deflator = [(1 + DEFLATOR_GROWTH) ** t for t in range(T)]
    # planned DEL behind the OBR forecast: SR2025 totals, then OBR growth to 2030-31, then a
    # constant share of GDP (the rules, not these paths, set DEL after the settled years)
    rdel = SR_RDEL + [SR_RDEL[-1] * OBR_RDEL[3] / OBR_RDEL[2]]
    rdel.append(rdel[-1] * OBR_RDEL[4] / OBR_RDEL[3])
    cdel = SR_CDEL + [SR_CDEL[-1] * OBR_CDEL[4] / OBR_CDEL[3]]
    for t in range(OBR, T):
        rdel.append(rdel[-1] * gdp[t] / gdp[t - 1])
        cdel.append(cdel[-1] * gdp[t] / gdp[t - 1])
    share = lambda xs: xs[-1] / GDP[-1]  # noqa: E731  2030-31 share of GDP
    receipts = RECEIPTS + [share(RECEIPTS) * g for g in gdp[OBR:]]
    w_growth = WELFARE_TOTAL[-1] / WELFARE_TOTAL[-2]
    welfare = WELFARE_TOTAL + [WELFARE_TOTAL[-1] * w_growth ** (k + 1) for k in range(T - OBR)]
    c_growth = WELFARE_IN_CAP[-1] / WELFARE_IN_CAP[-2]
    capped = WELFARE_IN_CAP + [WELFARE_IN_CAP[-1] * c_growth ** (k + 1) for k in range(T - OBR)]
    di = DEBT_INTEREST + [share(DEBT_INTEREST) * g for g in gdp[OBR:]]
    dep = [DEPRECIATION_2026_27 * (1 + DEPRECIATION_GROWTH) ** t for t in range(T)]
    ame_k = [AME_CAPITAL_SHARE * g for g in gdp]
    # CALIBRATED: current AME so that the current budget is the OBR's with the planned RDEL
    surplus = CURRENT_SURPLUS + [share(CURRENT_SURPLUS) * g for g in gdp[OBR:]]
    ame = [receipts[t] - rdel[t] - dep[t] - surplus[t] for t in range(T)]
    # CALIBRATED: other PSNFL flows so that PSNFL is the OBR's path with the planned DEL;
    # after 2030-31 held at their 2030-31 share of GDP
    psnfl, prev, other = [], PSNFL_2025_26, []
    for t in range(T):
        flows = rdel[t] + cdel[t] + ame[t] + ame_k[t] - receipts[t]
        if t < OBR:
            o = PSNFL[t] - prev - flows
        else:
            o = other[OBR - 1] / gdp[OBR - 1] * gdp[t]
        other.append(o)
        prev = prev + flows + o
        psnfl.append(prev)
    m = lambda x: round(x * 1000, 1)  # noqa: E731  £bn -> £m
    rows = []
    for t, y in enumerate(YEARS):
        rows.append(dict(
            year=y, gdp_gbp_m=m(gdp[t]), receipts_gbp_m=m(receipts[t]), ame_current_gbp_m=m(ame[t]),
            welfare_capped_gbp_m=m(capped[t]),
            welfare_cap_gbp_m=m(WELFARE_CAP_2029_30) if y == "2029-30" else "",
            debt_interest_gbp_m=m(di[t]), psnfl_forecast_gbp_m=m(psnfl[t]),
            ame_capital_gbp_m=m(ame_k[t]), depreciation_gbp_m=m(dep[t]),
            other_psnfl_flows_gbp_m=m(other[t]), deflator=round(deflator[t], 6),
            rdel_envelope_gbp_m=m(SR_RDEL[t]) if t < len(SR_RDEL) else "",
            cdel_envelope_gbp_m=m(SR_CDEL[t]) if t < len(SR_CDEL) else ""))
    _write("fiscal.csv", rows)
    # memo for SOURCES.md: the implied welfare split (not an input)
    print("other current AME (£bn):", [round(a - w - d, 1) for a, w, d in zip(ame, welfare, di)])
    print("planned RDEL / CDEL (£bn):", [round(x, 1) for x in rdel], [round(x, 1) for x in cdel])
    print("PSNFL (£bn):", [round(x, 1) for x in psnfl])

    # settled.csv: SR2025 departmental totals (SMALL takes the rounding residual), all of them
    # the Barnett reference path. Fixed (imposed): the resource settlements of the departments
    # with mission programmes, which the optimiser would otherwise re-allocate. Not fixed:
    # capital, and departments without mission programmes, where the instance's programme
    # floors (constant in real terms, programmes.csv) do not fit SR2025's real-terms cuts
    # (README, "Settled totals"); the envelope still holds their total.
    settled = []
    for t, y in enumerate(YEARS[:4]):
        r = {d: v[t] for d, v in RDEL.items()} if t < 3 else {}
        c = {d: v[t] for d, v in CDEL.items()}
        if r:
            r["SMALL"] += SR_RDEL[t] - sum(r.values())
        c["SMALL"] = SR_CDEL[t] - sum(c.values())
        for cat, vals in (("resource", r), ("capital", c)):
            for d, v in vals.items():
                if d == "RES":  # the Reserve is held by the Treasury, not a settlement
                    continue
                if cat == "capital" and d in ("SCOT", "WAL", "NIE"):
                    # reference: the 2026-27 baseline held flat real (SR2025's later devolved
                    # capital is a real cut below the block-grant programme floors)
                    continue
                settled.append(dict(department=d, year=y, category=cat, limit_gbp_m=m(v),
                                    fixed=str(cat == "resource" and d in FIXED).lower()))
    _write("settled.csv", settled)

    # committed.csv: MOD DEL held at its SR2025 2028-29 share of GDP (ASSUMPTION, SOURCES.md)
    mod_share = (RDEL["MOD"][2] + CDEL["MOD"][2]) / GDP[2]
    committed = [dict(department="MOD", year=y, min_del_gbp_m=m(mod_share * gdp[t]),
                      basis=f"MOD DEL at its SR2025 2028-29 share of GDP ({100 * mod_share:.3f}%), "
                            "sustaining the NATO 2.6% of GDP commitment")
                 for t, y in enumerate(YEARS) if t >= 3]
    _write("committed.csv", committed)

    # barnett.csv: SoFP 2025 Annex B comparability factors; population proportions ASSUMED
    pop = {"SCOT": 5.49 / 57.69, "WAL": 3.16 / 57.69, "NIE": 1.92 / 57.69}
    factors = {"DHSC": (99.5, 99.5, 99.5), "DfE": (100, 100, 100), "HO": (73.3, 0.5, 74.5),
               "MoJ": (100, 0, 100), "MHCLG": (100, 100, 100), "DfT": (95.6, 33.5, 95.6)}
    barnett = []
    for i, n in enumerate(("SCOT", "WAL", "NIE")):
        for d, f in factors.items():
            if f[i] > 0:
                barnett.append(dict(devolved=n, department=d, comparability_factor=f[i] / 100,
                                    population_proportion=round(pop[n], 5)))
    _write("barnett.csv", barnett)


def _write(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    build()
