"""Benchmarks: ``scripts/bench ingest [--events N] [--anvil-events N]``, ``scripts/bench tender``,
``scripts/bench experts``,
``scripts/bench alliance``, ``scripts/bench registry``, ``scripts/bench scale [--leaves N]``.
They print figures and assert nothing."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def machine_speed() -> float:
    """Seconds for a fixed pure-Python loop. The VM these figures come from has run the same code
    about twice as fast on one day as on another: a figure means little without this beside it."""
    import time

    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(3_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench")
    sub = parser.add_subparsers(dest="suite", required=True)
    ingest = sub.add_parser("ingest", help="notary throughput, latency, proof verification, gas")
    ingest.add_argument("--events", type=int, default=100_000)
    ingest.add_argument("--anvil-events", type=int, default=10_000)
    sub.add_parser("tender", help="gas per opened bid and seconds to open for 3, 30 and 300 bidders")
    sub.add_parser("experts", help="gas of an expert draw (k = 7) for pools of 100, 10,000 and 1,000,000")
    alliance = sub.add_parser("alliance", help="mirror sync speed and relay latency on three anvil chains")
    alliance.add_argument("--events", type=int, default=200_000)
    sub.add_parser("registry", help="anchor gas with its consistency proof from 10^3, 10^6 and 10^9 leaves")
    scale = sub.add_parser("scale", help="start time and memory of a notary on a log of 10 million leaves")
    scale.add_argument("--leaves", type=int, default=10_000_000)
    args = parser.parse_args()
    print(f"this machine: {machine_speed():.3f} s for 3 million Python loop steps (best of 3; to compare "
          "figures from machines or runs of different speed)")
    if args.suite == "ingest":
        from scripts import bench_ingest

        bench_ingest.run(args.events, args.anvil_events)
    elif args.suite == "tender":
        from scripts import bench_tender

        bench_tender.run()
    elif args.suite == "experts":
        from scripts import bench_experts

        bench_experts.run()
    elif args.suite == "alliance":
        from scripts import bench_alliance

        bench_alliance.run(args.events)
    elif args.suite == "scale":
        from scripts import bench_scale

        bench_scale.run(args.leaves)
    elif args.suite == "registry":
        from scripts import bench_registry

        bench_registry.run()


if __name__ == "__main__":
    main()
