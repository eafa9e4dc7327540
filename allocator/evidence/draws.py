"""Draws of the uncertain parameters, and the objective they imply.

**Sampling** (Gaussian copula with common random numbers). Draw s uses its own generator,
seeded by (seed, s), so a draw never depends on how many draws are taken, on the worker
that computes it, or on the order. For each correlation group g (in file order) with k_g
parameters and correlation ρ_g, z = L ε with ε ~ N(0, I) and L L' = (1−ρ_g) I + ρ_g 11';
parameter j then takes F_j⁻¹(Φ(z_j)) (the normal and log-normal families use z_j directly:
mean + sd·z, exp(μ + σ z)). Groups are independent of each other.

**Objective under a draw.** Every parameter enters the objective only (the feasible set
does not move), through

    γ'_im = γ_im Π_{k: effect_size ∋ (i,m)} θ_k          effect sizes
    w'_m  = w_m  Π_{k: mission_weight ∋ m} θ_k            mission weights
    ℓ'_p[k] = ℓ_p[k] Π_{lag_scale ∋ p} θ · Π_{persistence ∋ p} ρ^k    lag profiles

and the coefficients are those of :func:`allocator.models.objective.piece_coefficients`
for (w', γ', ℓ'): c_θ[i,τ] = Σ_m w'_m γ'_im Σ_k ℓ'_p(i)[k] δ[m,τ+k]. A plan's value under
θ is V_θ(x) = Σ_{i,τ} c_θ[i,τ] (x[i,τ] − x̄_i), linear in x, so the value of any plan under
any draw is one dot product.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from allocator.models.objective import mission_gains, piece_coefficients, piece_lagged_discount

from .schema import Beta, Evidence, LogNormal, Normal, Range, Triangular

Z90 = 1.6448536269514722  # Φ⁻¹(0.95)


def _lognormal_params(mean: float, sd: float) -> tuple[float, float]:
    s2 = np.log1p((sd / mean) ** 2)
    return float(np.log(mean) - s2 / 2), float(np.sqrt(s2))


def transform(dist, z: np.ndarray) -> np.ndarray:
    """F⁻¹(Φ(z)) for one distribution (vectorised over z)."""
    from scipy import stats

    if isinstance(dist, Normal):
        return dist.mean + dist.sd * z
    if isinstance(dist, LogNormal):
        mu, sig = _lognormal_params(dist.mean, dist.sd)
        return np.exp(mu + sig * z)
    if isinstance(dist, Range) and dist.read_as == "normal_90":
        return (dist.low + dist.high) / 2 + (dist.high - dist.low) / (2 * Z90) * z
    if isinstance(dist, Range) and dist.read_as == "lognormal_90":
        a, b = np.log(dist.low), np.log(dist.high)
        return np.exp((a + b) / 2 + (b - a) / (2 * Z90) * z)
    u = stats.norm.cdf(z)
    if isinstance(dist, Beta):
        return dist.low + (dist.high - dist.low) * stats.beta.ppf(u, dist.alpha, dist.beta)
    if isinstance(dist, Triangular):
        w = dist.high - dist.low
        return stats.triang.ppf(u, (dist.mode - dist.low) / w, loc=dist.low, scale=w)
    if isinstance(dist, Range) and dist.read_as == "uniform":
        return dist.low + (dist.high - dist.low) * u
    if isinstance(dist, Range) and dist.read_as == "triangular":
        return stats.triang.ppf(u, 0.5, loc=dist.low, scale=dist.high - dist.low)
    raise TypeError(f"unknown distribution {dist!r}")


def moments(dist) -> tuple[float, float]:
    """Mean and standard deviation of a distribution (exact)."""
    from scipy import stats

    if isinstance(dist, (Normal, LogNormal)):
        return dist.mean, dist.sd
    if isinstance(dist, Beta):
        w = dist.high - dist.low
        m, v = stats.beta.stats(dist.alpha, dist.beta, moments="mv")
        return float(dist.low + w * m), float(w * np.sqrt(v))
    if isinstance(dist, Triangular):
        w = dist.high - dist.low
        m, v = stats.triang.stats((dist.mode - dist.low) / w, loc=dist.low, scale=w, moments="mv")
        return float(m), float(np.sqrt(v))
    lo, hi = dist.low, dist.high
    if dist.read_as == "uniform":
        return (lo + hi) / 2, (hi - lo) / np.sqrt(12)
    if dist.read_as == "triangular":
        return (lo + hi) / 2, (hi - lo) / np.sqrt(24)
    if dist.read_as == "normal_90":
        return (lo + hi) / 2, (hi - lo) / (2 * Z90)
    a, b = np.log(lo), np.log(hi)
    mu, sig = (a + b) / 2, (b - a) / (2 * Z90)
    return float(np.exp(mu + sig**2 / 2)), float(np.exp(mu + sig**2 / 2) * np.sqrt(np.expm1(sig**2)))


def group_order(ev: Evidence) -> list[tuple[str, list[int]]]:
    return list(ev.group_of().items())


def draw(ev: Evidence, seed: int, s: int) -> np.ndarray:
    """θ of draw ``s`` (one value per parameter, in file order)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(s)]))
    theta = np.empty(len(ev.parameters))
    for gid, idx in group_order(ev):
        k, rho = len(idx), ev.correlation(gid)
        eps = rng.standard_normal(k)
        if k > 1 and rho != 0.0:
            C = np.full((k, k), rho) + (1 - rho) * np.eye(k)
            z = np.linalg.cholesky(C) @ eps
        else:
            z = eps
        for j, i in enumerate(idx):
            theta[i] = float(transform(ev.parameters[i].distribution, np.array(z[j])))
    return theta


def draws(ev: Evidence, seed: int, n: int, start: int = 0) -> np.ndarray:
    return np.vstack([draw(ev, seed, s) for s in range(start, start + n)]) if n else \
        np.zeros((0, len(ev.parameters)))


class EvidenceMap:
    """Maps a parameter vector θ onto the objective of one allocation model's data."""

    def __init__(self, ev: Evidence, model):
        self.ev, self.md = ev, model.data
        md, inst = model.data, model.instance
        prof = {p.id: p.lag_profile for p in inst.programmes}
        lead = {p.id: p.owners[0] for p in inst.programmes}
        prog_ids = np.array(md.programmes)
        self.gain_masks, self.weight_masks, self.lag_masks, self.kinds = [], [], [], []
        for p in ev.parameters:
            sel = p.select
            prog_ok = np.ones(md.P, dtype=bool)
            if sel.programmes is not None:
                prog_ok &= np.isin(prog_ids, sel.programmes)
            if sel.departments is not None:
                prog_ok &= np.array([lead[q] in sel.departments for q in md.programmes])
            if sel.lag_profiles is not None:
                prog_ok &= np.array([prof[q] in sel.lag_profiles for q in md.programmes])
            m_ok = np.ones(md.M, dtype=bool)
            if sel.missions is not None:
                m_ok = np.isin(np.array(md.missions), sel.missions)
            self.kinds.append(p.kind)
            if p.kind == "effect_size":
                rows = prog_ok[md.piece_prog]
                if sel.segments is not None:
                    rows &= np.isin(md.piece_seg, sel.segments)
                self.gain_masks.append(np.outer(rows, m_ok))
                self.weight_masks.append(None)
                self.lag_masks.append(None)
            elif p.kind == "mission_weight":
                self.gain_masks.append(None)
                self.weight_masks.append(m_ok)
                self.lag_masks.append(None)
            else:
                self.gain_masks.append(None)
                self.weight_masks.append(None)
                self.lag_masks.append(prog_ok)
        self.has_lag = any(k in ("lag_scale", "persistence") for k in self.kinds)
        self._lagged0 = piece_lagged_discount(md)
        self.fill = md.piece_baseline_fill

    def data(self, theta: np.ndarray):
        """The model data (w', γ', ℓ') under θ (a shallow copy; the model's own is untouched)."""
        md = self.md
        gain, weight, lag = md.piece_gain.copy(), md.weight.copy(), md.lag.copy()
        kk = np.arange(lag.shape[1])
        for j, kind in enumerate(self.kinds):
            v = float(theta[j])
            if kind == "effect_size":
                gain = np.where(self.gain_masks[j], gain * v, gain)
            elif kind == "mission_weight":
                weight = np.where(self.weight_masks[j], weight * v, weight)
            elif kind == "lag_scale":
                lag[self.lag_masks[j]] *= v
            else:  # persistence
                lag[self.lag_masks[j]] *= v ** kk[None, :]
        return replace(md, piece_gain=gain, weight=weight, lag=lag)

    def coefficients(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(c_in, c_term), each (N, T): the in-horizon and terminal objective coefficients."""
        d = self.data(theta)
        return piece_coefficients(d, None if self.has_lag else self._lagged0)

    def cost(self, theta: np.ndarray) -> np.ndarray:
        """c_θ flattened (N·T,): the x-block costs."""
        ci, ct = self.coefficients(theta)
        return (ci + ct).ravel()

    def value(self, cost: np.ndarray, xblock: np.ndarray) -> float:
        """V_θ(x) = c_θ · (x − x̄) for the x-block of a plan."""
        T = self.md.T
        return float(cost @ (xblock - np.repeat(self.fill, T)))

    def mission_values(self, theta: np.ndarray, xblock: np.ndarray) -> np.ndarray:
        """Value by mission (M,): the objective split into each mission's weighted term."""
        d = self.data(theta)
        lagged = piece_lagged_discount(d) if self.has_lag else self._lagged0
        T = self.md.T
        dx = xblock.reshape(-1, T) - self.fill[:, None]
        wg = d.piece_gain * d.weight[None, :]
        A = lagged[0] + lagged[1]  # (N, M, T)
        return np.einsum("nm,nmt,nt->m", wg, A, dx)

    def final_metrics(self, theta: np.ndarray, xblock: np.ndarray) -> np.ndarray:
        """Core metric change against baseline in the final horizon year, per mission."""
        d = self.data(theta)
        T = self.md.T
        return mission_gains(d, xblock.reshape(-1, T))[:, T - 1]
