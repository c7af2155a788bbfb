"""The statistics of commonality analysis: one-sided Fisher exact tests on 2×2 exposure tables, Benjamini–
Hochberg q-values, the likelihood-ratio statistic that orders tests whose p-values underflow, and guards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import hypergeom

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Guards:
    """When a test is run, and when its result may be called significant."""

    alpha: float = 0.05  # q below this: significant
    min_exposed: int = 5  # fewer exposed (or unexposed) items: not tested
    min_defects: int = 3  # fewer exposed defective items: at most inconclusive
    suggestive: float = 0.20  # q below this (but not alpha): inconclusive rather than not significant


def fisher_greater(n_exp: IntArray, k_exp: IntArray, total: int | IntArray, defects: int | IntArray) -> Array:
    """One-sided Fisher exact p-values: the chance of at least ``k_exp`` defective items among ``n_exp``
    exposed ones, drawn without replacement from ``total`` items of which ``defects`` are defective.

    This is ``scipy.stats.fisher_exact(table, alternative="greater")`` for the table
    ``[[k, n - k], [K - k, N - n - K + k]]``, computed for all tables at once.
    """
    n_exp = np.asarray(n_exp, dtype=np.int64)
    k_exp = np.asarray(k_exp, dtype=np.int64)
    p = hypergeom.sf(k_exp - 1, total, defects, n_exp)
    return np.clip(np.where(k_exp <= 0, 1.0, p), 0.0, 1.0)


def benjamini_hochberg(p: Array) -> Array:
    """Benjamini–Hochberg adjusted p-values (q-values) of a family of tests, in the input order."""
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    if not m:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def g_statistic(n_exp: IntArray, k_exp: IntArray, total: int, defects: int) -> Array:
    """Likelihood-ratio (G) statistic of each 2×2 table, signed: negative where the exposed rate is lower.

    It orders tables whose exact p-values are all below the smallest float (large plants, strong causes).
    """
    n = np.asarray(n_exp, dtype=np.float64)
    k = np.asarray(k_exp, dtype=np.float64)
    cells = np.stack([k, n - k, defects - k, total - n - defects + k])
    rows = np.stack([n, n, total - n, total - n])
    cols = np.stack([np.full_like(n, defects), np.full_like(n, total - defects)] * 2)
    expected = rows * cols / max(total, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(cells > 0, cells * np.log(cells / expected), 0.0)
    g = 2 * np.nansum(terms, axis=0)
    rate_in = np.divide(k, n, out=np.zeros_like(k), where=n > 0)
    rate_out = np.divide(defects - k, total - n, out=np.zeros_like(k), where=(total - n) > 0)
    return np.where(rate_in >= rate_out, g, -g)


def rates(n_exp: IntArray, k_exp: IntArray, total: int, defects: int) -> tuple[Array, Array, Array]:
    """Defect rate with the factor, without it, and their ratio (lift; inf where none without it)."""
    n = np.asarray(n_exp, dtype=np.float64)
    k = np.asarray(k_exp, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        with_ = np.where(n > 0, k / n, 0.0)
        rest = total - n
        without = np.where(rest > 0, (defects - k) / rest, 0.0)
        lift = np.where(without > 0, with_ / without, np.where(with_ > 0, np.inf, 1.0))
    return with_, without, lift
