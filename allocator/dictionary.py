"""The data dictionary: every column of every output table, every key of every JSON output.

This module is the ONE place where output columns are described. ``docs/outputs.md``, the
``datapackage.json`` written beside each folder of tables (Frictionless Data Package with a
Table Schema per CSV), the ``columns`` sheet of ``results.xlsx`` and the statement's annex
are all generated from it; ``tests/test_dictionary.py`` runs every command on the tiny and
default instances and fails when any output column or key is not described here.

Each entry is ``name: (meaning, unit, sign convention)``; ``""`` means "not applicable".

**Money columns** end in the instance's money unit: ``_gbp_m`` (£ million, the default),
``_gbp_bn`` (£ billion) or ``_gbp`` (£) when ``money_unit`` in ``instance.yaml`` says so.
They are described once under their ``_gbp_m`` name; :func:`lookup` maps the other
suffixes onto it and :func:`unit_of` gives the unit the column is really in. Money is cash
(nominal) unless the column says ``real`` (prices of the first horizon year).

Lookup order for a column of table ``product/table``: the table's own entry, then the
product's ``*`` entry, then :data:`COMMON`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

MONEY_SUFFIX = re.compile(r"_gbp(_m|_bn)?$")
UNIT_OF_SUFFIX = {"_gbp_m": "£m", "_gbp_bn": "£bn", "_gbp": "£"}
OBJ = "objective units (£m-equivalent with monetised weights; priority points with unitless weights)"
CASH = "£m cash (instance money unit)"
REAL = "£m real, prices of the first horizon year (instance money unit)"


@dataclass(frozen=True)
class Column:
    """One described column: meaning, unit and sign convention (empty when not applicable)."""

    name: str
    meaning: str
    unit: str = ""
    sign: str = ""


#: Columns that mean the same wherever they appear.
COMMON: dict[str, tuple[str, str, str]] = {
    "year": ("fiscal year label (April to March), e.g. 2026-27", "", ""),
    "department": ("department id as in departments.csv of the instance ('mission_fund' for the "
                   "cross-cutting Mission Fund)", "", ""),
    "programme": ("programme id as in programmes.csv of the instance", "", ""),
    "category": ("DEL category: resource (day-to-day) or capital (investment)", "", ""),
    "mission": ("mission id as in instance.yaml (missions)", "", ""),
    "metric": ("the mission's core metric, in words", "", ""),
    "unit": ("unit of the mission's core metric", "", ""),
    "constraint": ("constraint family (one module in models/constraints/), e.g. stability_rule, "
                   "del_envelope, ramp_limit", "", ""),
    "subject": ("what the constraint row is about: a department, programme or mission id "
                "(empty for whole-plan rows)", "", ""),
    "shadow_price": ("mission value of relaxing the constraint by one unit (£1m for money rows)",
                     OBJ + " per £1m", "≥ 0; 0 when the row does not bind"),
    "description": ("the row or item in plain words", "", ""),
    "event": ("trigger event id from the events YAML", "", ""),
    "kind": ("event kind: recession, interest_rate_shock, inflation_shock, fiscal_windfall or "
             "demand_shock", "", ""),
    "trigger_year": ("year in which the event strikes (earlier years are fixed to the base plan)",
                     "", ""),
    "severity_multiplier": ("multiple of the event's stated severity on the grid", "ratio", ""),
    "severity": ("the event's severity after the multiplier (meaning per kind: docs/sensitivity.md)",
                 "per event kind", ""),
    "status": ("solver status: optimal, infeasible, unbounded, time_limit, iteration_limit, "
               "check_failed or error", "", ""),
    "objective": ("mission value of the plan (the objective)", OBJ, "higher is better"),
    "objective_in_horizon": ("part of the objective from effects within the horizon", OBJ, "higher is better"),
    "objective_terminal": ("part of the objective from effects after the horizon (10-year test)", OBJ,
                           "higher is better"),
    "regime": ("settlement length in years (1 = annual budgets)", "years", ""),
    "path": ("sampled economic path number (same paths for every regime)", "", ""),
    "measure": ("outcome measure: a column of cycles_paths.csv", "", ""),
    "parameter": ("swept parameter (dotted setting or table field)", "", ""),
    "level": ("'department' (settlement limits by department and category) or 'programme' "
              "(programme cash spend)", "", ""),
    "name": ("department or programme id (see level)", "", ""),
    "rule": ("fiscal rule or constraint family in words", "", ""),
    "item": ("headline item", "", ""),
    "benefit_gbp_m": ("present-value mission benefit, incremental over the counterfactual (baseline "
                      "grown with demand pressures)", "£m-equivalent (monetised weights)",
                      "positive = better"),
    "extra_cost_gbp_m": ("present value of extra spending against the counterfactual, net of AME "
                         "saved (before the cost of public funds)", "real £m, discounted",
                         "positive = costs more than the counterfactual"),
    "npv_gbp_m": ("net present value: benefit − cost of public funds × extra cost",
                  "£m-equivalent", "positive = worth doing"),
    "bcr": ("benefit-cost ratio: benefit / (cost of public funds × extra cost); empty when the "
            "extra cost is not positive", "ratio", "above 1 = benefits exceed costs"),
    "owners": ("the programme's owning departments", "", ""),
    "helps": ("which way moving the row's bound adds mission value: 'raising' (a limit) or "
              "'lowering' (a floor)", "", ""),
    "value_if_raised": ("signed shadow price: mission value of raising the bound by one unit",
                        "objective units per row unit", "negative = raising it costs value"),
    "advice": ("the shadow price in words, in the direction that helps", "", ""),
    "marginal_cost_gbp_m": ("social cost of £1m more cash in the year, per £1m: cost of public "
                            "funds × discount factor / deflator (a ratio: the same in every "
                            "money unit)", "ratio", ""),
    "marginal_bcr": ("marginal benefit-cost ratio: the envelope's shadow price over the marginal "
                     "cost", "ratio", "above 1 = more DEL would pay"),
    "reference_gbp_m": ("the Barnett reference limit (the settled or baseline path) a devolved "
                        "government's consequentials are measured from", CASH, ""),
    "barnett_consequential_gbp_m": ("Barnett consequential: the devolved limit's change from its "
                                    "reference that comparable English spending brings", CASH,
                                    "positive = more for the devolved government"),
    "improvement": ("change in the core metric against baseline, in the direction of good",
                    "metric unit", "positive = better"),
    "worse": ("true when the core metric is worse than baseline in the year", "true/false", ""),
    "infeasible_at": ("the parameter value at which no plan exists (empty when every value is "
                      "feasible)", "parameter units", ""),
    "infeasible_end": ("which end of the range has no plan: low, high or empty", "", ""),
}

_FISCAL = {
    "gdp_gbp_m": ("nominal GDP (forecast in the instance's fiscal.csv)", CASH, ""),
    "receipts_gbp_m": ("public sector current receipts", CASH, ""),
    "rdel_gbp_m": ("total resource DEL of the plan (sum of department resource settlements and "
                   "the Mission Fund's resource spend)", CASH, ""),
    "cdel_gbp_m": ("total capital DEL of the plan", CASH, ""),
    "rdel_envelope_gbp_m": ("resource DEL envelope (upper limit set by the instance)", CASH, ""),
    "cdel_envelope_gbp_m": ("capital DEL envelope (upper limit set by the instance)", CASH, ""),
    "ame_gbp_m": ("annually managed expenditure: current AME after prevention savings plus capital AME",
                  CASH, ""),
    "ame_current_gbp_m": ("current AME after the savings that prevention spending brings", CASH, ""),
    "ame_saving_gbp_m": ("AME saved by the plan's prevention spending (welfare and other demand-led "
                         "costs avoided)", CASH, "positive = spending avoided"),
    "depreciation_gbp_m": ("depreciation (counts against the current budget)", CASH, ""),
    "current_balance_gbp_m": ("current budget balance = receipts − resource DEL − current AME − "
                              "depreciation", CASH, "positive = surplus, negative = deficit"),
    "stability_margin_gbp_m": ("current balance minus the stability rule's required margin", CASH,
                               "positive = the rule is met with room; negative = missed"),
    "stability_target": ("true in the years in which the stability rule is assessed", "true/false", ""),
    "psnfl_gbp_m": ("public sector net financial liabilities at the end of the year", CASH, ""),
    "psnfl_pct_gdp": ("PSNFL as a share of GDP", "% of GDP", "lower is better"),
    "investment_margin_gbp_m": ("room under the investment rule: PSNFL that would keep the debt "
                                "ratio constant (last year's PSNFL × GDP growth) minus this year's PSNFL",
                                CASH, "positive = the ratio falls (rule met)"),
    "investment_target": ("true in the years in which the investment rule is assessed", "true/false", ""),
    "welfare_capped_gbp_m": ("welfare spending inside the welfare cap, after prevention savings",
                             CASH, ""),
    "welfare_cap_gbp_m": ("the welfare cap", CASH, ""),
    "headroom_gbp_m": ("fiscal headroom: stability margin minus the headroom the instance asks "
                       "for (fiscal_rules.headroom_gbp_m); NOT the input setting of the same name",
                       CASH, "positive = room to spare; negative = short of the desired headroom"),
    "pie_share": ("Prevention Investment Expenditure as a share of all programme spend", "ratio (0–1)", ""),
    "pie_share_floor": ("minimum PIE share in the year (0 when the rule is off)", "ratio (0–1)", ""),
    "receipts_feedback_gbp_m": ("extra receipts from the growth mission's GDP gain (receipts "
                                "feedback; 0 when off)", CASH, "positive = more receipts"),
    "debt_interest_gbp_m": ("debt interest: the forecast path plus the plan's feedback (inside "
                            "current AME)", CASH, ""),
    "debt_interest_feedback_gbp_m": ("extra debt interest the plan's borrowing costs: the rate × "
                                     "(last year's PSNFL − its forecast path)", CASH,
                                     "positive = more interest than forecast"),
    "welfare_cap_with_margin_gbp_m": ("the welfare cap plus its forecast margin, in the years the "
                                      "cap is enforced (empty otherwise)", CASH, ""),
}

#: product -> table -> column -> (meaning, unit, sign). "*" entries apply to every table of a product.
TABLES: dict[str, dict[str, dict[str, tuple[str, str, str]]]] = {
    "solve": {
        "allocations": {
            "pie": ("true if the programme is Prevention Investment Expenditure", "true/false", ""),
            "funding": ("who pays: 'department' (its owner's settlement) or 'mission_fund'", "", ""),
            "spend_gbp_m": ("programme spend in the year from this funder", CASH, "≥ 0"),
            "real_spend_gbp_m": ("the same spend in real terms", REAL, "≥ 0"),
        },
        "departments": {
            "rdel_gbp_m": ("the department's resource DEL settlement (limit)", CASH, "≥ 0"),
            "cdel_gbp_m": ("the department's capital DEL settlement (limit)", CASH, "≥ 0"),
            "rdel_spend_gbp_m": ("resource programme spend the department funds", CASH, "≥ 0"),
            "cdel_spend_gbp_m": ("capital programme spend the department funds", CASH, "≥ 0"),
            "pie_gbp_m": ("the department's Prevention Investment Expenditure", CASH, "≥ 0"),
            "pie_floor_gbp_m": ("the department's minimum PIE (ring-fence)", CASH, "≥ 0"),
            "baseline_gbp_m": ("the department's baseline spend (sum of its programmes' baselines, "
                               "uprated to cash)", CASH, "≥ 0"),
            "real_floor_gbp_m": ("the department's real-terms floor, in cash", CASH, "≥ 0"),
        },
        "missions": {
            "baseline_value": ("the metric on its baseline path (no change in policy)", "metric unit", ""),
            "value": ("the metric under the plan = baseline ± gain (− when lower is better)",
                      "metric unit", ""),
            "gain": ("improvement of the metric against baseline", "metric unit",
                     "positive = better, whatever the metric's direction (a fall in crime is a "
                     "positive gain)"),
            "in_horizon": ("true within the 10-year horizon; false for effects after it (10-year test)",
                           "true/false", ""),
            "discounted_value": ("mission value of the year's gain: weight × Green Book discount "
                                 "factor × gain; sums to the objective", OBJ, "positive = better"),
            "government_mission": ("the government mission the core metric serves (growth, clean "
                                   "energy, NHS, safer streets, opportunity)", "", ""),
        },
        "metrics": {
            "baseline_value": ("the comprehensive (input/output) metric on the baseline plan",
                               "the metric's unit (column unit)", ""),
            "value": ("the comprehensive metric under the plan", "the metric's unit (column unit)", ""),
            "change": ("value − baseline_value", "the metric's unit (column unit)",
                       "positive = the metric is higher under the plan (read with its kind and "
                       "direction; not a gain)"),
        },
        "fiscal": _FISCAL,
        "shadow_prices": {
            "slack": ("distance of the row's activity from its nearest bound", "£m for money rows; "
                      "metric unit for mission_target rows", "≥ 0; 0 = binding"),
            "binding": ("true when the row is at its bound", "true/false", ""),
        },
        "infeasibility": {
            "family": ("constraint family that must be relaxed", "", ""),
            "direction": ("which bound to move: 'raise the upper limit' or 'lower the lower limit'",
                          "", ""),
            "relaxation_gbp_m": ("smallest relaxation of the row that restores feasibility", CASH,
                                 "≥ 0"),
        },
        "department_by_year": {
            "total_gbp_m": ("the department's total programme spend in the year (resource + "
                            "capital, all funders)", CASH, "≥ 0"),
            "rdel_gbp_m": ("resource DEL settlement", CASH, "≥ 0"),
            "cdel_gbp_m": ("capital DEL settlement", CASH, "≥ 0"),
            "pie_gbp_m": ("Prevention Investment Expenditure", CASH, "≥ 0"),
            "baseline_gbp_m": ("baseline spend in cash", CASH, "≥ 0"),
            "change_vs_baseline_gbp_m": ("total spend minus baseline", CASH, "positive = more than baseline"),
            "real_change_vs_baseline_gbp_m": ("change against baseline in real terms", REAL,
                                              "positive = more than baseline"),
        },
        # Excel: the summary sheet and the column dictionary sheet
        "summary_sheet": {
            "item": ("summary item (see summary.json)", "", ""),
            "value": ("its value", "", ""),
        },
        "columns_sheet": {
            "table": ("output table (CSV file stem / sheet)", "", ""),
            "column": ("column name", "", ""),
            "meaning": ("what the column holds", "", ""),
            "unit": ("its unit", "", ""),
            "sign": ("sign convention", "", ""),
        },
        "binding": {
            "slack": ("distance of the row's activity from its nearest bound (0: binding)", "£m", "≥ 0"),
            "binding": ("true when the row is at its bound", "true/false", ""),
        },
    },
    "appraise": {
        "metrics": {
            "baseline_value": ("the core metric on the counterfactual (baseline spending grown with "
                               "demand pressures)", "metric unit", ""),
            "value": ("the core metric under the plan", "metric unit", ""),
        },
        "constraints": {
            "activity": ("the plan's value of the constraint row", "£m (row units)", ""),
            "lower": ("the row's lower bound (empty: none)", "£m (row units)", ""),
            "upper": ("the row's upper bound (empty: none)", "£m (row units)", ""),
            "margin_gbp_m": ("distance of the activity inside its bounds", CASH,
                             "positive = inside the rule with room; negative = breach"),
            "ok": ("true when the plan satisfies the row", "true/false", ""),
        },
        "missions": {
            "gain_final_year": ("metric gain against baseline in the last horizon year", "metric unit",
                                "positive = better"),
            "value_in_horizon": ("mission value within the horizon", OBJ, "positive = better"),
            "value_terminal": ("mission value from effects after the horizon", OBJ, "positive = better"),
            "value": ("total mission value", OBJ, "positive = better"),
            "value_per_gbp_m": ("mission value per £1m of the plan's programme spend", OBJ + " per £1m", ""),
            "value_per_extra_gbp_m": ("mission value per £1m spent above baseline", OBJ + " per £1m", ""),
        },
    },
    "diff": {
        "headline": {
            "a": ("value in run A", "as the item", ""),
            "b": ("value in run B", "as the item", ""),
            "change": ("B − A", "as the item", "positive = B higher"),
        },
        "departments": {
            "a_gbp_m": ("department's horizon-total spend in run A", CASH, "≥ 0"),
            "b_gbp_m": ("department's horizon-total spend in run B", CASH, "≥ 0"),
            "change_gbp_m": ("B − A", CASH, "positive = more in B"),
            "change_pct": ("(B − A) / |A|", "%", "positive = more in B; empty when A is 0"),
        },
        "departments_by_year": {
            "a_gbp_m": ("department's spend in the year in run A", CASH, "≥ 0"),
            "b_gbp_m": ("department's spend in the year in run B", CASH, "≥ 0"),
            "change_gbp_m": ("B − A", CASH, "positive = more in B"),
        },
        "missions": {
            "a_value": ("mission value in run A", OBJ, "positive = better"),
            "b_value": ("mission value in run B", OBJ, "positive = better"),
            "value_change": ("B − A", OBJ, "positive = B better"),
            "a_gain_final_year": ("final-year metric gain in run A", "metric unit", "positive = better"),
            "b_gain_final_year": ("final-year metric gain in run B", "metric unit", "positive = better"),
            "gain_change": ("B − A", "metric unit", "positive = B better"),
        },
        "headroom": {
            "a_gbp_m": ("margin over the rule in run A", CASH, "positive = room; negative = breach"),
            "b_gbp_m": ("margin over the rule in run B", CASH, "positive = room; negative = breach"),
            "change_gbp_m": ("B − A", CASH, "positive = more room in B"),
        },
    },
    "statement": {
        "metrics": {
            "baseline_value": ("the metric on its baseline path", "metric unit", ""),
            "value": ("the metric under the plan", "metric unit", ""),
            "reference_value": ("the metric under the reference run (the baseline path when the "
                                "statement is against baseline)", "metric unit", ""),
            "change": ("plan − reference, in metric units", "metric unit",
                       "sign of the metric: see better_direction"),
            "improvement": ("change in the direction of good (positive = better)", "metric unit",
                            "positive = better"),
            "better_direction": ("'higher' or 'lower': which way is better for the metric", "", ""),
            "low": ("lower end of the uncertainty range (where one is available)", "metric unit", ""),
            "high": ("upper end of the uncertainty range (where one is available)", "metric unit", ""),
        },
        "departments": {
            "reference_gbp_m": ("horizon-total spend under the reference (baseline spend, or run B's "
                                "comparison run)", CASH, "≥ 0"),
            "plan_gbp_m": ("horizon-total spend under the plan", CASH, "≥ 0"),
            "change_gbp_m": ("plan − reference, cash", CASH, "positive = more for the department"),
            "change_real_gbp_m": ("plan − reference, real terms", REAL,
                                  "positive = more for the department"),
            "change_pct": ("cash change / reference", "%", "positive = more for the department"),
        },
        "headroom": {
            "plan_gbp_m": ("margin over the rule under the plan", CASH, "positive = room; negative = breach"),
            "reference_gbp_m": ("margin under the reference run (empty against baseline)", CASH,
                                "positive = room; negative = breach"),
        },
    },
    "cycles": {
        "*": {
            "mission_value_gbp_m": ("realised discounted mission value", "£m-equivalent", "higher is better"),
            "value_in_horizon_gbp_m": ("its part within the horizon", "£m-equivalent", "higher is better"),
            "value_terminal_gbp_m": ("its part after the horizon", "£m-equivalent", "higher is better"),
            "planning_cost_gbp_m": ("cost of re-planning (each review and each triggered reopening)",
                                    "£m-equivalent", "lower is better"),
            "net_value_gbp_m": ("mission value minus planning cost", "£m-equivalent", "higher is better"),
            "breaches": ("fiscal events whose forecast breaks a rule in its target year (all rules)",
                         "count", "lower is better"),
            "breach_gbp_m": ("total size of the forecast breaches", CASH, "lower is better"),
            "stability_breaches": ("fiscal events whose forecast breaks the stability rule in its "
                                   "target year", "count", "lower is better"),
            "investment_breaches": ("fiscal events whose forecast breaks the investment rule in its "
                                    "target year", "count", "lower is better"),
            "welfare_breaches": ("fiscal events whose forecast breaks the welfare cap", "count",
                                 "lower is better"),
            "outturn_misses": ("rule-years whose outturn misses a rule after in-year absorption "
                               "(reported apart from breaches)", "count", "lower is better"),
            "outturn_miss_gbp_m": ("size of the outturn misses", CASH, "≥ 0"),
            "good_news_reviews": ("reviews reopened early by a good-news trigger", "count", ""),
            "budget_corrections": ("annual Budgets that corrected settled limits within their band",
                                   "count", ""),
            "budget": ("1 if the year's Budget corrected the settled limits", "0/1", ""),
            "failed_replans": ("re-plans or Budgets the solver refused even from a cold start at "
                               "1e-3 £m tolerance; the standing plan carried on", "count",
                               "should be 0"),
            "target_year": ("the year the fiscal event at the start of this year tested the "
                            "stability rule for (empty: none left in the horizon)", "year", ""),
            "in_year_cuts_gbp_m": ("spending cut in year to absorb shocks", CASH, "lower is better"),
            "reserve_drawn_gbp_m": ("reserve drawn to absorb shocks", CASH, ""),
            "budget_volatility_pct": ("mean over departments of the standard deviation of year-on-year "
                                      "real growth of total DEL limit", "percentage points", "lower is better"),
            "reviews": ("Spending Reviews held on the path", "count", ""),
            "triggered_reviews": ("reviews reopened early by a trigger", "count", ""),
            "pie_share_mean": ("mean PIE share of programme spend", "ratio (0–1)", ""),
            "pie_share_final": ("PIE share in the last year", "ratio (0–1)", ""),
            "pie_protected": ("1 if every PIE floor and the rising PIE share held in every year", "0/1", ""),
            "min_headroom_gbp_m": ("smallest stability-rule headroom over the path", CASH,
                                   "negative = breach"),
            "headroom_gbp_m": ("outturn stability-rule headroom after absorption (CB − m − H)", CASH,
                               "negative = breach"),
            "pie_share": ("PIE share of programme spend", "ratio (0–1)", ""),
            "stability_breach_gbp_m": ("forecast stability-rule breach in the target year at this "
                                       "year's fiscal event", CASH, "≥ 0"),
            "investment_breach_gbp_m": ("forecast investment-rule breach in the target year at this "
                                        "year's fiscal event", CASH, "≥ 0"),
            "welfare_breach_gbp_m": ("forecast welfare-cap breach at this year's fiscal event", CASH,
                                     "≥ 0"),
            "in_year_cut_gbp_m": ("in-year cut", CASH, "≥ 0"),
            "review": ("0 no review, 1 scheduled review, 2 triggered review", "code", ""),
            "trigger": ("which trigger rules fired (empty: none)", "", ""),
            "mean": ("mean over paths", "as the measure", ""),
            "p5": ("5th percentile over paths", "as the measure", ""),
            "p50": ("median over paths", "as the measure", ""),
            "p95": ("95th percentile over paths", "as the measure", ""),
            "versus": ("the regime compared against (the 1-year regime if present)", "years", ""),
            "mean_difference": ("mean paired difference regime − versus", "as the measure",
                                "sign as the measure"),
            "ci95_low": ("lower end of its 95% t-interval", "as the measure", ""),
            "ci95_high": ("upper end of its 95% t-interval", "as the measure", ""),
            "sd": ("standard deviation of the paired differences", "as the measure", ""),
            "paths": ("number of paths", "count", ""),
        },
    },
    "sensitivity": {
        "*": {
            "objective": ("mission value of the re-plan (or sweep unit)", OBJ, "higher is better"),
            "loss": ("mission value lost against the base plan", OBJ, "positive = worse than base"),
            "loss_pct": ("loss as a share of the base objective", "%", "positive = worse"),
            "base_plan_holds_rules": ("would the unchanged base plan still meet every rule", "true/false", ""),
            "relaxation_gbp_m": ("smallest relaxation that restores feasibility (0 when feasible)",
                                 CASH, "≥ 0"),
            "change_gbp_m": ("change in settlement or programme spend against the base plan", CASH,
                             "positive = more"),
            "direction": ("which bound to move", "", ""),
            "enforced": ("true if the rule is switched on in the instance", "true/false", ""),
            "base_plan_holds": ("the base plan meets the rule under the shock", "true/false", ""),
            "replan_holds": ("the re-plan meets the rule", "true/false", ""),
            "value": ("discounted mission value landing in the year (value_paths) or the swept "
                      "parameter's value (sweep)", "objective units / parameter units", ""),
            "cumulative_value": ("running total of value", OBJ, ""),
            "base_value": ("the base plan's value in the year", OBJ, ""),
            "base_cumulative_value": ("running total of the base plan's value", OBJ, ""),
            "stage": ("'first' (before the trigger, shared by every branch) or 'recourse' "
                      "(probability-weighted)", "", ""),
            "robust_gbp_m": ("the stochastic (robust) plan", CASH, "≥ 0"),
            "ev_plan_gbp_m": ("the expected-value plan", CASH, "≥ 0"),
            "base_plan_gbp_m": ("the base plan", CASH, "≥ 0"),
            "difference_vs_ev_gbp_m": ("robust − EV plan", CASH, "positive = robust spends more"),
            "difference_vs_base_gbp_m": ("robust − base plan", CASH, "positive = robust spends more"),
            "scenario": ("event-tree branch", "", ""),
            "probability": ("branch probability", "ratio (0–1)", ""),
            "value_perfect_information": ("branch optimum knowing it will happen", OBJ, ""),
            "value_stochastic_plan": ("robust plan's value in the branch", OBJ, ""),
            "value_ev_first_stage": ("value with the EV plan's first stage and best recourse", OBJ, ""),
            "value_base_first_stage": ("value with the base plan's first stage and best recourse", OBJ, ""),
            "change_vs_base": ("the parameter value relative to its base value", "ratio", ""),
            "rebuilt": ("true if the unit needed a model rebuild (not a warm re-solve)", "true/false", ""),
            "total_gbp_m": ("total settlement over the horizon", CASH, "≥ 0"),
            "base_objective": ("objective of the base plan", OBJ, ""),
            "value_at_low": ("parameter value giving the lowest objective", "parameter units", ""),
            "objective_low": ("lowest objective over the sweep", OBJ, ""),
            "value_at_high": ("parameter value giving the highest objective", "parameter units", ""),
            "objective_high": ("highest objective over the sweep", OBJ, ""),
            "swing": ("objective_high − objective_low", OBJ, "≥ 0"),
            "infeasible_values": ("number of swept values with no feasible plan", "count", ""),
            "base_gbp_m": ("department total settlement in the base plan", CASH, "≥ 0"),
            "low_gbp_m": ("lowest department total over the sweep", CASH, "≥ 0"),
            "high_gbp_m": ("highest department total over the sweep", CASH, "≥ 0"),
            "swing_gbp_m": ("high − low", CASH, "≥ 0"),
            "bound": ("the row's current bound", "£m (row units)", ""),
            "bound_low": ("lowest bound with the same basis (and shadow price)", "£m (row units)", ""),
            "bound_high": ("highest bound with the same basis (and shadow price)", "£m (row units)", ""),
            "objective_at_low": ("objective at bound_low", OBJ, ""),
            "objective_at_high": ("objective at bound_high", OBJ, ""),
        },
    },
}

#: product -> JSON file -> top-level key -> (meaning, unit, sign)
JSON_KEYS: dict[str, dict[str, dict[str, tuple[str, str, str]]]] = {
    "solve": {"summary": {
        "instance": ("instance name", "", ""),
        "instance_path": ("where the instance was read from", "", ""),
        "instance_sha256": ("SHA-256 of the instance's canonical content (provenance)", "", ""),
        "status": COMMON["status"],
        "message": ("the solve outcome in words", "", ""),
        "objective": COMMON["objective"],
        "objective_in_horizon": COMMON["objective_in_horizon"],
        "objective_terminal": COMMON["objective_terminal"],
        "objective_unit": ("unit of the objective, in words", "", ""),
        "weights_kind": ("monetised (weights in £m-equivalent per metric unit) or unitless "
                         "(priority points)", "", ""),
        "timings_s": ("seconds spent loading, building, solving, tabulating and writing", "s", ""),
        "solver": ("solver name, version, raw status, iterations, best bound and MIP gap", "", ""),
        "model_size": ("rows, columns and non-zeros of the LP", "count", ""),
        "command": ("the command line that produced the run", "", ""),
        "versions": ("package versions (provenance)", "", ""),
        "binding_constraints": ("binding constraints with the largest shadow prices, in words", "", ""),
        "feasibility_check": ("independent re-check of every rule from the tables: rows checked per "
                              "family, violations, recomputed objective", "", ""),
        "numerical_warnings": ("coefficient ranges HiGHS handles badly, by family and row", "", ""),
        "infeasibility": ("when infeasible: the smallest relaxation, by rule and year, with "
                          "sentences in words", CASH, ""),
        "money_unit": ("the instance's money unit (gbp_m, gbp_bn or gbp)", "", ""),
        "objective_kind": ("what the objective measures: mission value (value mode) or minus "
                           "total programme spend (target mode)", "", ""),
        "net_value": ("benefit, extra cost, cost of public funds, NPV, BCR and the marginal BCR by "
                      "year (value_*.csv, marginal_bcr.csv)", "£m-equivalent / ratio", ""),
        "unique_plan": ("the second stage that picked one plan from the optimal face: tolerance "
                        "used, its objective and seconds", "", ""),
        "mode": ("the instance's mode: envelope (DEL envelopes), fiscal (the fiscal rules set total "
                 "DEL) or budget (one budget, no UK fiscal framework)", "", ""),
        "currency": ("the currency label money is reported in (budget-mode instances may set "
                     "their own; £ otherwise)", "", ""),
    }},
    "appraise": {"appraisal": {
        "command": ("the command line", "", ""), "instance": ("instance name", "", ""),
        "instance_sha256": ("SHA-256 of the instance", "", ""), "versions": ("package versions", "", ""),
        "passed": ("true when the plan passes every test of the mission test", "true/false", ""),
        "tests": ("each test: name, passed, figures in words", "", ""),
        "mission_value": ("the plan's mission value", OBJ, "higher is better"),
        "value_in_horizon": ("its part within the horizon", OBJ, "higher is better"),
        "value_terminal": ("its part after the horizon", OBJ, "higher is better"),
        "plan_objective": ("the LP objective at the plan", OBJ, "higher is better"),
        "optimal_objective": ("the optimal plan's objective (empty with --no-optimal)", OBJ, ""),
        "optimal_status": ("status of the optimal solve", "", ""),
        "gap_to_optimal": ("optimal − plan objective", OBJ, "positive = the plan leaves value unclaimed"),
        "objective_unit": ("unit of the objective", "", ""),
        "money_unit": ("money unit of the appraisal's figures (always gbp_m: the appraisal "
                       "works and reports in £m whatever the instance's unit)", "", ""),
        "net_value": ("the plan's benefit, extra cost, NPV and BCR against the counterfactual",
                      "£m-equivalent / ratio", ""),
        "violations": ("breached rows with margins", CASH, "negative margin = breach"),
        "notes": ("notes in words", "", ""),
    }},
    "diff": {"diff": {
        "run_a": ("results folder A", "", ""), "run_b": ("results folder B", "", ""),
        "instance_a": ("instance of A", "", ""), "instance_b": ("instance of B", "", ""),
        "instance_sha256_a": ("SHA-256 of A's instance", "", ""),
        "instance_sha256_b": ("SHA-256 of B's instance", "", ""),
        "headline": ("rows of headline.csv", "", "B − A"),
        "departments": ("rows of departments.csv (every department)", CASH, "B − A"),
        "missions": ("rows of missions.csv", OBJ, "B − A"),
        "headroom": ("rows of headroom.csv", CASH, "B − A"),
        "notes": ("notes in words (different instances, missing plans)", "", ""),
    }},
    "statement": {"statement": {
        "title": ("the statement's title", "", ""),
        "plan": ("results folder of the plan", "", ""),
        "reference": ("results folder of the reference run, or 'baseline'", "", ""),
        "summary": ("the one-page summary sentences", "", ""),
        "missions": ("one sentence per mission: its core metric's change by the last horizon year, "
                     "and whether that is better or worse", "", ""),
        "headline": ("headline figures (objective, NPV and BCR where computed)", "", ""),
        "metrics": ("rows of metrics.csv", "", ""),
        "departments": ("rows of departments.csv", CASH, "plan − reference"),
        "headroom": ("rows of headroom.csv", CASH, "positive = room"),
        "caveats": ("assumptions and caveats in words", "", ""),
        "instance_sha256": ("SHA-256 of the plan's instance", "", ""),
    }},
    "cycles": {"summary": {
        "base_regime": ("regime that differences are taken against", "years", ""),
        "command": ("the command line", "", ""), "instance": ("instance name", "", ""),
        "instance_sha256": ("SHA-256 of the instance", "", ""),
        "parallel": ("workers and back-end used", "", ""), "paths": ("number of paths", "count", ""),
        "regimes": ("settlement lengths compared", "years", ""), "seed": ("random seed", "", ""),
        "timings": ("seconds per stage", "s", ""), "uncertainty": ("the uncertainty settings used", "", ""),
        "value_unit": ("unit of value columns", "", ""), "versions": ("package versions", "", ""),
        "weights_kind": ("monetised or unitless weights", "", ""),
        "unique_plan": ("whether the second stage picked each re-plan's and Budget's plan", "true/false",
                        ""),
    }},
    "sensitivity": {"summary": {
        "analyses": ("analyses run", "", ""), "command": ("the command line", "", ""),
        "events_file": ("the events YAML", "", ""), "events_sha256": ("its SHA-256", "", ""),
        "files": ("files written", "", ""), "instance": ("instance name", "", ""),
        "instance_sha256": ("SHA-256 of the instance", "", ""),
        "money_unit": ("the instance's money unit", "", ""), "objective_unit": ("unit of the objective", "", ""),
        "replan": ("re-plan summary", OBJ, ""), "stochastic": ("RP, WS, EVPI, EEV, VSS", OBJ, ""),
        "sweep": ("sweep summary", OBJ, ""), "seed": ("random seed", "", ""),
        "seed_note": ("what the seed affects", "", ""), "timings_s": ("seconds per stage", "s", ""),
        "versions": ("package versions", "", ""), "weights_kind": ("monetised or unitless weights", "", ""),
    }},
}

#: Meanings of input fields whose schema declaration carries no description (used by the
#: template workbook's README and settings sheets: allocator/excel.py). Keys: the settings
#: key (dotted), ``record_path.field`` for list sheets, ``sheet.column`` for the CSV tables.
INPUT_FIELDS: dict[str, str] = {
    "name": "short identifier of the instance (letters, digits, _ and -); appears in every output",
    "title": "one-line title of the instance, in words",
    "description": "what the instance represents, its sources and its limits, in words",
    "weights.kind": "monetised: weights in £m per metric unit sustained for one year, objective in "
                    "£m-equivalent; priority: unitless weights, objective in priority points",
    "weights.note": "how the weights were derived, in words (shown in the impact statement)",
    "constraints.programme_floors": "true/false: enforce each programme's floor_gbp_m",
    "constraints.programme_caps": "true/false: enforce each programme's cap_gbp_m",
    "constraints.ramp_limits": "true/false: limit each programme's year-on-year change in real spend "
                               "to ramp_limit_gbp_m",
    "constraints.settlements": "true/false: spending funded by each department stays within its "
                               "settlement (limit) per category and year",
    "constraints.department_real_floor": "true/false: each department's total DEL ≥ real_floor × baseline "
                                         "in real terms",
    "constraints.del_envelope": "true/false: total resource and capital DEL ≤ the envelopes in fiscal.csv "
                                "(envelope mode)",
    "constraints.pie_department_floor": "true/false: each department funds at least its pie_floor_gbp_m "
                                        "of prevention (PIE)",
    "constraints.pie_share": "true/false: PIE is at least the rising minimum share of programme spend",
    "constraints.demand_floors": "true/false: statutory demand-led services spend at least their "
                                 "demand_floor_gbp_m grown by demand (family demand_floor)",
    "constraints.resource_limits": "true/false: enforce the non-money resource limits (family "
                                   "resource_limit)",
    "constraints.metric_floors": "true/false: enforce the floors given on comprehensive metrics "
                                 "(family metric_floor)",
    "constraints.mission_fund": "true/false: the Mission Fund exists, within its size limits and only "
                                "for eligible cross-cutting programmes",
    "constraints.welfare_cap": "true/false: welfare spending inside the cap stays within welfare_cap_gbp_m",
    "constraints.stability_rule": "true/false: the current budget balance meets the required margin "
                                  "(plus headroom) in the target years",
    "constraints.investment_rule": "true/false: PSNFL falls as a share of GDP in the target years",
    "fiscal_rules.stability_rule.target_years": "fiscal years (labels) in which the stability rule is "
                                                "assessed, e.g. [\"2029-30\", \"2030-31\"]",
    "fiscal_rules.investment_rule.target_years": "fiscal years (labels) in which PSNFL must fall as a "
                                                 "share of GDP",
    "solver.name": "LP solver: highs (default) or any solver Pyomo can run (glpk, cbc, ...)",
    "solver.time_limit_s": "solver time limit in seconds (empty: none); a plan stopped at the limit is "
                           "reported as not proven optimal",
    "solver.mip_gap": "relative MIP gap at which the solver may stop (all_or_nothing programmes only)",
    "solver.threads": "solver threads (empty: the solver's default)",
    "uncertainty": "settings of `allocator cycles` (economic shocks, certainty effects, triggers), as "
                   "JSON; see docs/cycles.md",
    "sensitivity": "settings of `allocator sensitivity` (sweep grid, event defaults), as JSON; see "
                   "docs/sensitivity.md",
    "missions.id": "mission identifier used in segments.csv and in the outputs",
    "missions.name": "the mission's name, in words",
    "missions.higher_is_better": "true if a higher metric is better (e.g. life expectancy); false if "
                                 "lower is better (e.g. crime)",
    "spending_reviews.id": "identifier of the Spending Review period",
    "spending_reviews.start": "first fiscal year of the period (label, e.g. 2026-27)",
    "spending_reviews.end": "last fiscal year of the period (label)",
    "departments.id": "department identifier used in programmes.csv (owners) and the outputs",
    "departments.name": "the department's name, in words",
    "programmes.id": "programme identifier used in segments.csv and the outputs",
    "programmes.name": "the programme's name, in words",
    "programmes.category": "resource (day-to-day) or capital DEL",
    "programmes.pie": "true if the programme is Prevention Investment Expenditure (protected prevention)",
    "programmes.mission_fund_eligible": "true if the Mission Fund may fund the programme (it needs two or "
                                        "more owners)",
    "programmes.floor_gbp_m": "minimum spend each year, real £m (prices of the first horizon year)",
    "programmes.cap_gbp_m": "maximum spend each year, real £m (empty: no cap)",
    "programmes.lag_profile": "id of the profile in lags.csv that spreads the programme's effect over years",
    "programmes.description": "what the programme is, in words",
    "segments.programme": "programme id (programmes.csv)",
    "segments.mission": "mission id (instance.yaml missions)",
    "segments.segment": "segment number 1, 2, ...: segment k covers the k-th width of real spend",
    "lags.profile": "lag profile id (used by programmes.csv lag_profile)",
    "lags.lag": "years after the spending year in which this part of the effect lands (0 = same year)",
    "lags.weight": "share of the effect that lands at this lag (≥ 0; a profile's weights sum to ≤ 1)",
    "fiscal.year": "fiscal year label (one row per horizon year)",
    "fiscal.gdp_gbp_m": "nominal GDP, cash £m",
    "fiscal.receipts_gbp_m": "public sector current receipts, cash £m",
    "fiscal.welfare_cap_gbp_m": "the welfare cap, cash £m",
    "fiscal.ame_capital_gbp_m": "capital AME, cash £m (counts towards PSNFL)",
    "fiscal.depreciation_gbp_m": "depreciation, cash £m (counts against the current budget)",
    "fiscal.rdel_envelope_gbp_m": "total resource DEL envelope, cash £m (envelope mode)",
    "fiscal.cdel_envelope_gbp_m": "total capital DEL envelope, cash £m (envelope mode)",
}


#: what each output file is, for docs/outputs.md and datapackage.json
FILES: dict[str, dict[str, str]] = {
    "solve": {
        "allocations": "one row per year, programme and funder: the plan's spend",
        "departments": "one row per year and department: settlements (limits), spend, PIE and floors",
        "missions": "one row per mission and year (after the horizon while effects last): metric paths",
        "fiscal": "one row per year: the fiscal aggregates and the margin over each rule",
        "shadow_prices": "one row per policy constraint row: shadow price, slack, binding",
        "infeasibility": "infeasible runs only: the smallest relaxation by rule and year",
        "department_by_year": "results.xlsx sheet: one row per department and year (totals, change vs baseline)",
        "summary_sheet": "results.xlsx 'summary' sheet: item | value",
        "columns_sheet": "results.xlsx 'columns' sheet: this dictionary for the tables in the workbook",
        "binding": "results.xlsx 'binding' sheet: the binding constraints with the largest shadow prices",
    },
    "appraise": {"constraints": "every constraint row checked against the plan",
                 "missions": "mission value of the plan by mission"},
    "diff": {"headline": "status and objective, A, B and B − A",
             "departments": "every department's horizon-total spend, A, B, B − A",
             "departments_by_year": "department spend by year, A, B, B − A",
             "missions": "mission value and final-year gain, A, B, B − A",
             "headroom": "margin over each rule and year, A, B, B − A"},
    "statement": {"metrics": "each core metric's path: plan, reference, change, direction of good",
                  "departments": "each department's change in cash and real terms",
                  "headroom": "margin over each fiscal rule and envelope per year"},
    "cycles": {"cycles_summary": "regime × measure: mean, p5, p50, p95",
               "cycles_differences": "paired differences against the base regime, with 95% CIs",
               "cycles_paths": "one row per regime and path",
               "cycles_years": "one row per regime, path and year"},
    "sensitivity": {"replan": "one row per event, trigger year and severity: the re-plan",
                    "rules": "which rules the base plan and the re-plan meet",
                    "relaxations": "smallest relaxation by rule and year when no re-plan is feasible",
                    "absorption": "who absorbs the shock: change by department/programme",
                    "value_paths": "mission value by year (fan chart)",
                    "settlement_difference": "robust vs EV vs base plan",
                    "stochastic_scenarios": "event-tree branches and their values",
                    "sweep": "one row per swept parameter value",
                    "sweep_allocations": "department totals per sweep unit",
                    "tornado": "objective range per parameter",
                    "tornado_allocations": "department total range per parameter",
                    "ranging": "shadow-price ranging of the base plan's binding rows"},
}


def money_key(column: str) -> str:
    """``spend_gbp_bn`` / ``spend_gbp`` → ``spend_gbp_m`` (the name the dictionary uses)."""
    return MONEY_SUFFIX.sub("_gbp_m", column)


def unit_of(column: str, unit: str) -> str:
    """The unit with £m replaced by the money unit the column's suffix says."""
    m = MONEY_SUFFIX.search(column)
    if not m or "£m" not in unit:
        return unit
    real = UNIT_OF_SUFFIX["_gbp" + (m.group(1) or "")]
    return unit.replace("£m", real, 1)


def lookup(product: str, table: str, column: str) -> Column | None:
    """The description of ``column`` in ``product``'s ``table``, or None if undescribed."""
    key = money_key(column)
    tables = TABLES.get(product, {})
    for source in (tables.get(table, {}), tables.get("*", {}), COMMON):
        if column in source or key in source:
            meaning, unit, sign = source.get(column) or source[key]
            return Column(column, meaning, unit_of(column, unit), sign)
    return None


def lookup_key(product: str, file: str, key: str) -> Column | None:
    src = JSON_KEYS.get(product, {}).get(file, {})
    if key in src:
        meaning, unit, sign = src[key]
        return Column(key, meaning, unit, sign)
    return None


def undescribed(product: str, table: str, columns: Iterable[str]) -> list[str]:
    """The columns of a table that have no description."""
    return [c for c in columns if lookup(product, table, str(c)) is None]


# --------------------------------------------------------------------------- descriptors
def _field_type(dtype) -> str:
    kind = getattr(dtype, "kind", "O")
    return {"b": "boolean", "i": "integer", "u": "integer", "f": "number"}.get(kind, "string")


def table_schema(product: str, table: str, df) -> dict:
    """Frictionless Table Schema of a results table, from the dictionary."""
    fields = []
    for c in df.columns:
        col = lookup(product, table, str(c))
        f = {"name": str(c), "type": _field_type(df[c].dtype)}
        if col is not None:
            f["description"] = col.meaning + (f" Sign: {col.sign}." if col.sign else "")
            if col.unit:
                f["unit"] = col.unit
            if col.sign:
                f["sign"] = col.sign
        fields.append(f)
    schema = {"fields": fields}
    if f"{table}" == "infeasibility" or product != "solve":
        return schema
    return schema


def datapackage(product: str, tables: dict, name: str = "allocator-results", extra: dict | None = None) -> dict:
    """A Frictionless Data Package descriptor for ``tables`` (stem -> DataFrame) written as CSV."""
    from allocator import __version__

    res = []
    for stem, df in tables.items():
        res.append({"name": re.sub(r"[^a-z0-9._-]", "-", stem.lower()), "path": f"{stem}.csv",
                    "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv",
                    "encoding": "utf-8", "description": FILES.get(product, {}).get(stem, ""),
                    "schema": table_schema(product, stem, df)})
    pkg = {"profile": "tabular-data-package", "name": name,
           "description": f"allocator {__version__} '{product}' outputs; column meanings, units "
                          "and sign conventions from allocator/dictionary.py (docs/outputs.md)",
           "resources": res}
    pkg.update(extra or {})
    return pkg


def write_datapackage(folder, product: str, tables: dict, extra: dict | None = None) -> None:
    """Write ``folder/datapackage.json`` describing ``tables`` (stem -> DataFrame)."""
    import json
    from pathlib import Path

    Path(folder, "datapackage.json").write_text(
        json.dumps(datapackage(product, tables, extra=extra), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")


def datapackage_for_folder(folder, product: str) -> None:
    """Describe every CSV already in ``folder`` (read back to get their columns and types)."""
    from pathlib import Path

    import pandas as pd

    tables = {}
    for f in sorted(Path(folder).glob("*.csv")):
        try:
            tables[f.stem] = pd.read_csv(f, nrows=200)
        except pd.errors.EmptyDataError:
            continue
    write_datapackage(folder, product, tables)


def rows(product: str, table: str, columns: Iterable[str]) -> list[Column]:
    """Described columns (undescribed ones as an empty meaning) in order."""
    out = []
    for c in columns:
        col = lookup(product, table, str(c))
        out.append(col or Column(str(c), ""))
    return out


# --------------------------------------------------------------------------- docs/outputs.md
def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """docs/outputs.md, generated (``python -m allocator.dictionary > docs/outputs.md``)."""
    lines = ["# Outputs: the data dictionary", "",
             "<!-- generated by `python -m allocator.dictionary > docs/outputs.md`; edit "
             "allocator/dictionary.py, not this file -->", "",
             "Every column of every table and every top-level key of every JSON file that a command "
             "writes, with its meaning, unit and sign convention. The same descriptions are written "
             "beside the tables as a Frictionless Data Package (`datapackage.json`, one Table Schema "
             "per CSV, loadable typed by other tools) and as the `columns` sheet of `results.xlsx`.",
             "",
             "**Money columns** carry the instance's money unit in their names: `_gbp_m` (£ million, "
             "the default), `_gbp_bn` or `_gbp` when `money_unit` says so. Money is **cash** (nominal) "
             "unless the column says `real` (prices of the first horizon year). "
             "**Objective units** are £m-equivalent when the mission weights are monetised (£ of "
             "social value per unit of metric) and priority points when they are unitless.",
             "", "**Signs**: a mission `gain` is positive when the metric moves in its good direction "
             "(a fall in crime is a positive gain). Margins and headroom are positive when the rule "
             "is met with room and negative on a breach. Changes are plan − reference (or B − A).",
             ""]
    products = {"solve": "`allocator solve --out DIR` (and `Result.write`)",
                "appraise": "`allocator appraise … --out DIR`", "diff": "`allocator diff A B --out DIR`",
                "statement": "`allocator statement PLAN [--against REF] --out DIR`",
                "cycles": "`allocator cycles … --out DIR`", "sensitivity": "`allocator sensitivity … --out DIR`"}
    for product, title in products.items():
        lines += [f"## {title}", ""]
        names = list(FILES.get(product, {}))
        for t in [t for t in TABLES.get(product, {}) if t not in names and t != "*"]:
            names.append(t)
        for js, keys in JSON_KEYS.get(product, {}).items():
            lines += [f"### `{js}.json`", "", "| key | meaning | unit | sign |", "|---|---|---|---|"]
            for k, (m, u, s) in keys.items():
                lines.append(f"| `{k}` | {_md(m)} | {_md(u)} | {_md(s)} |")
            lines.append("")
        for t in names:
            lines += [f"### `{t}`" + ("" if t.endswith("_sheet") or t in ("department_by_year", "binding")
                                       else ".csv"), "", FILES.get(product, {}).get(t, ""), ""]
            own = TABLES.get(product, {}).get(t, {})
            if own:
                lines += ["| column | meaning | unit | sign |", "|---|---|---|---|"]
                for k, (m, u, s) in own.items():
                    lines.append(f"| `{k}` | {_md(m)} | {_md(u)} | {_md(s)} |")
                lines.append("")
        star = TABLES.get(product, {}).get("*", {})
        if star:
            lines += ["### Columns of every table above", "", "| column | meaning | unit | sign |",
                      "|---|---|---|---|"]
            for k, (m, u, s) in star.items():
                lines.append(f"| `{k}` | {_md(m)} | {_md(u)} | {_md(s)} |")
            lines.append("")
    lines += ["## Columns shared by every table", "",
              "Where a table above does not list a column, it has this meaning.", "",
              "| column | meaning | unit | sign |", "|---|---|---|---|"]
    for k, (m, u, s) in COMMON.items():
        lines.append(f"| `{k}` | {_md(m)} | {_md(u)} | {_md(s)} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(markdown())
