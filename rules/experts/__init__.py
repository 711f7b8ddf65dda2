"""The random draw of evaluation experts (专家随机抽取) that no single party can steer, verifiable by anyone.

- ``roster``: the inputs — experts, dated relations, penalties, past draws; the draw plan (profile,
  strata of speciality × venue × scope with quotas).
- ``profiles``: committee composition by trading type, each value with its legal source.
- ``registry``: a province's expert registry and its snapshot (salted Merkle root) anchored on chain.
- ``pool``: a province's eligible pools for a draw, a pure function of the registry, the plan and
  the tender contract's bidders (avoidance, 回避, every exclusion with its reason code).
- ``escrow``: the parties' secrets, Feldman-shared on BN254 so that a withholder is overridden.
- ``sequence``: plan hash, seed and positions exactly as the ExpertDraw contract derives them.
- ``draw``: the ExpertDraw contract from Python, every step notarized.
- ``verify``: snapshot → pool → avoidance → seed → positions → names, against the chain.
"""
