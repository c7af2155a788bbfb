"""The statistics of RCA against scipy and hand-computed values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import false_discovery_control, fisher_exact

from zhuisu.rca.stats import benjamini_hochberg, fisher_greater, g_statistic, rates


def test_fisher_matches_scipy_on_every_small_table() -> None:
    total, defects = 40, 7
    cases = [(n, k) for n, k in itertools.product(range(0, total + 1, 3), range(defects + 1)) if k <= n
             and n - k <= total - defects]
    n, k = np.array([c[0] for c in cases]), np.array([c[1] for c in cases])
    ours = fisher_greater(n, k, total, defects)
    for (n_i, k_i), p in zip(cases, ours.tolist(), strict=True):
        table = [[k_i, n_i - k_i], [defects - k_i, total - n_i - defects + k_i]]
        expected = fisher_exact(table, alternative="greater").pvalue if k_i > 0 else 1.0
        assert p == pytest.approx(expected, rel=1e-9, abs=1e-15), (n_i, k_i)


def test_fisher_by_hand_and_in_the_far_tail() -> None:
    # 3 of 4 exposed defective, 1 of 6 others: P(X >= 3) for a hypergeometric(10, 4, 4) = (C(4,3)C(6,1) + 1) / C(10,4)
    assert fisher_greater(np.array([4]), np.array([3]), 10, 4)[0] == pytest.approx(25 / 210)
    # a strong cause in a large plant: below the smallest float, so ranking needs the G statistic too
    tail = fisher_greater(np.array([1000, 1000]), np.array([300, 310]), 1_000_000, 1500)
    assert tail.max() < 1e-300


def test_benjamini_hochberg_by_hand_and_against_scipy() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # ranks 2, 4, 3, 1 of m = 4: p·m/rank = 0.02, 0.04, 0.04, 0.02 (monotone already)
    assert benjamini_hochberg(p).tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    # step-up: a later (larger) p can lower an earlier q
    assert benjamini_hochberg(np.array([0.01, 0.011, 0.5])).tolist() == pytest.approx([0.0165, 0.0165, 0.5])
    rng = np.random.default_rng(4)
    many = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-4, size=10)])
    assert benjamini_hochberg(many) == pytest.approx(false_discovery_control(many, method="bh"))
    assert benjamini_hochberg(np.array([])).size == 0 and benjamini_hochberg(np.array([0.9, 2.0])).max() <= 1


def test_g_statistic_orders_underflowing_tables_and_is_signed() -> None:
    g = g_statistic(np.array([1000, 1000, 1000]), np.array([300, 310, 0]), 1_000_000, 1500)
    assert g[1] > g[0] > 0 > g[2]  # more defects exposed: larger; fewer than expected: negative


def test_rates_and_lift() -> None:
    with_, without, lift = rates(np.array([50, 0, 10]), np.array([10, 0, 2]), 200, 12)
    assert with_.tolist() == pytest.approx([0.2, 0.0, 0.2])
    assert without.tolist() == pytest.approx([2 / 150, 12 / 200, 10 / 190])
    assert lift[0] == pytest.approx(15.0) and lift[1] == 0.0
    assert rates(np.array([10]), np.array([10]), 100, 10)[2][0] == np.inf  # nothing without it
