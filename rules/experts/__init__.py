"""The random draw of evaluation experts (专家随机抽取), verifiable by anyone holding the inputs.

- ``roster``: the centre's expert roster (专家库) and the draw request (documented input formats).
- ``pool``: the eligible pool, a pure function of those inputs (avoidance, 回避), and its
  commitment (salted leaves, RFC 9162 root, exclusion-list hash).
- ``sequence``: seed and positions exactly as the ExpertDraw contract derives them.
- ``draw``: the ExpertDraw contract from Python, every step notarized.
- ``verify``: recompute pool, seed, positions and experts and compare with the chain.
"""
