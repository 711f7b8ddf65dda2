"""The Yellow River alliance (黄河链): AllianceRelay from Python, the members' relayer, mirrors,
and a local multi-chain alliance for tests and demos."""
