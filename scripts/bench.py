"""Benchmarks: ``scripts/bench ingest [--events N] [--anvil-events N]``. Prints figures, asserts nothing."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    sub = parser.add_subparsers(dest="suite", required=True)
    ingest = sub.add_parser("ingest", help="notary throughput, latency, proof verification, gas")
    ingest.add_argument("--events", type=int, default=100_000)
    ingest.add_argument("--anvil-events", type=int, default=10_000)
    args = parser.parse_args()
    if args.suite == "ingest":
        from scripts import bench_ingest

        bench_ingest.run(args.events, args.anvil_events)


if __name__ == "__main__":
    main()
