"""Programme floors and capacity caps (families ``programme_floor``, ``programme_cap``).

    q[p,t] >= floor_p        for every p with floor_p > 0, every t      (programme_floor)
    q[p,t] <= cap_p          for every p with a cap, every t            (programme_cap)

where q[p,t] = Σ_i x[i,t] over the response pieces of p is real spend (price-base £m).
"""

import numpy as np

from ._labels import by_subject_year, rows_for


def add(model) -> None:
    md, lp, e, on = model.data, model.lp, model.expr, model.instance.settings.constraints
    names = np.array(md.programmes)
    if on.programme_floors:
        ps = np.flatnonzero(md.prog_floor > 0)
        lp.add_constraints("programme_floor", e.q[rows_for(ps, md.T)],
                           np.repeat(md.prog_floor[ps], md.T), np.inf,
                           by_subject_year(names[ps], md.years))
    if on.programme_caps:
        ps = np.flatnonzero(np.isfinite(md.prog_cap))
        lp.add_constraints("programme_cap", e.q[rows_for(ps, md.T)], -np.inf,
                           np.repeat(md.prog_cap[ps], md.T), by_subject_year(names[ps], md.years))
