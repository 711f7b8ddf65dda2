"""Seeds and positions of a draw (pure): distinct, alternates continue, uniform in every stratum."""
from __future__ import annotations

import hashlib
import random

from lianzheng.rules.experts import escrow
from lianzheng.rules.experts.sequence import positions, seed_of, stratum_seed

# chi-square quantiles at significance 0.001
CHI2_CRITICAL_P001 = {19: 43.820, 11: 31.264}


def _chi2(observed, expected):
    return sum((o - expected) ** 2 / expected for o in observed)


def test_positions_are_distinct_and_alternates_extend_the_same_sequence():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 5000)
        seed = rng.randbytes(32)
        k = rng.randint(1, min(30, n))
        drawn = positions(seed, n, k)
        assert len(set(drawn)) == k and all(0 <= p < n for p in drawn)
        more = positions(seed, n, min(n, k + 3))
        assert more[:k] == drawn
    assert positions(b"\x00" * 32, 1, 1) == [0]


def test_every_expert_of_every_speciality_is_drawn_with_the_expected_frequency():
    """A plan of two specialities (strata): 20 experts with quota 5 and 12 with quota 2; 4,000 draws
    from seeds derived as the contract does (secrets → seed → stratum seed). In each stratum Pearson's
    chi-square over the experts' counts stays below the 0.1% critical value, and the first position
    alone is uniform too."""
    strata = [(20, 5), (12, 2)]
    draws = 4000
    counts = [[0] * n for n, _ in strata]
    first = [[0] * n for n, _ in strata]
    draw_id, plan = hashlib.sha256(b"draw").digest(), hashlib.sha256(b"plan").digest()
    for i in range(draws):
        secrets = [int.from_bytes(hashlib.sha256(f"party-{p}-{i}".encode()).digest(), "big") % escrow.R
                   for p in range(3)]
        seed = seed_of(draw_id, plan, secrets)
        for s, (n, k) in enumerate(strata):
            drawn = positions(stratum_seed(seed, s), n, k)
            first[s][drawn[0]] += 1
            for p in drawn:
                counts[s][p] += 1
    for s, (n, k) in enumerate(strata):
        assert _chi2(counts[s], draws * k / n) < CHI2_CRITICAL_P001[n - 1], s
        assert _chi2(first[s], draws / n) < CHI2_CRITICAL_P001[n - 1], s
    # the test can fail: a procedure that clamps 32 values onto 20 (the last expert 13/32 of the time) is caught
    biased = [0] * 20
    for i in range(draws):
        biased[min(hashlib.sha256(f"draw-{i}".encode()).digest()[0] % 32, 19)] += 1
    assert _chi2(biased, draws / 20) > CHI2_CRITICAL_P001[19]


def test_strata_draw_independently_of_each_other():
    """Two strata of the same size under one seed do not draw the same positions (the stratum index
    is in the stratum seed), over many seeds."""
    same = sum(positions(stratum_seed(bytes([i]) * 32, 0), 50, 3) == positions(stratum_seed(bytes([i]) * 32, 1), 50, 3)
               for i in range(200))
    assert same == 0


def test_escrowed_secrets_recover_from_any_threshold_of_shares_and_not_from_fewer():
    for n in (3, 4, 5, 8):
        t = escrow.threshold(n)
        d = escrow.deal(n, 0)
        holders = sorted(d.shares)
        assert all(escrow.share_is_valid(d.commitments, j, d.shares[j]) for j in holders)
        assert not escrow.share_is_valid(d.commitments, holders[0], (d.shares[holders[0]] + 1) % escrow.R)
        for start in range(len(holders) - t + 1):
            chosen = holders[start:start + t]
            assert escrow.recover({j: d.shares[j] for j in chosen}) == d.secret
        if t > 1:
            assert escrow.recover({j: d.shares[j] for j in holders[:t - 1]}) != d.secret
        assert escrow.public_of(d.secret) == d.commitments[0]
