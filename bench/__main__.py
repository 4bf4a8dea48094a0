"""``python -m bench``: run the load scenarios against Chinwag and ngircd, print the figures.

Scenarios (sizes overridable):

* ``a`` burst: 200 receivers x 10 senders x 500 messages, everything sent at once;
* ``b`` rate: 2,000 receivers, 10 senders, 1,000,000 deliveries/s for 5 s;
* ``c`` idle: 10,000 registered idle connections, server RSS per connection;
* ``d`` history: acknowledged (durable) messages per second, Chinwag only,
  with ``history_sync`` full and normal;
* ``smoke``: tiny versions of a and d, for the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.procstat import machine
from bench.profile import summarise
from bench.reader import available as reader_available
from bench.run import BenchError, Result, fanout, history, idle
from bench.servers import ServerStartError, ngircd_available, raise_nofile


def _targets(arg: str) -> list[str]:
    if arg == "both":
        return ["chinwag", "ngircd"] if ngircd_available() else ["chinwag"]
    return [arg]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--scenario", "-s", choices=("a", "b", "c", "d", "smoke"), required=True)
    p.add_argument("--target", "-t", choices=("chinwag", "ngircd", "both"), default="both")
    p.add_argument("--receivers", type=int, help="receivers (a: 200, b: 2000)")
    p.add_argument("--senders", type=int, help="senders (a, b: 10; d: 20)")
    p.add_argument("--messages", type=int, help="messages per sender in burst mode (a: 500)")
    p.add_argument("--rate", type=float, help="b: total deliveries per second to aim for (1000000)")
    p.add_argument("--duration", type=float, help="b, d: seconds of load (5)")
    p.add_argument("--connections", type=int, help="c: idle connections (10000)")
    p.add_argument("--window", type=int, default=500, help="d: says in flight per sender")
    p.add_argument(
        "--sync", choices=("full", "normal", "both"), default="both", help="d: history_sync"
    )
    p.add_argument("--procs", type=int, default=1, help="receiver worker processes")
    p.add_argument(
        "--exact",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check every delivery's order and latency (default: on for a, off for b)",
    )
    p.add_argument(
        "--reader",
        choices=("auto", "c", "python"),
        default="auto",
        help="a, b: who reads the receivers' sockets while measuring: the compiled "
        "reader (bench/reader.c, built with cc on first use; exact for every delivery) "
        "or the Python workers; auto = c when a compiler is there",
    )
    p.add_argument("--repeat", type=int, default=1, help="run each target this many times")
    p.add_argument(
        "--server-flag",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra chinwag-server flag, e.g. --server-flag=--fanout-window=0 (repeatable)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="a, b: record the Chinwag server with py-spy into FILE (collapsed stacks) "
        "and print a summary",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per run")
    return p


def _print(res: Result, as_json: bool) -> None:
    t = res.tally
    row: dict[str, object] = {
        "scenario": res.scenario,
        "target": res.target,
        "connections": res.extra.get("connections", t.connections),
        "server_cpu_s": round(res.cpu_s, 3),
        "server_peak_rss_mib": round(res.peak_rss_kib / 1024, 1),
    }
    if res.scenario in ("a", "b", "smoke-a"):
        row.update(
            deliveries=t.deliveries,
            expected=t.expected,
            lost=t.lost,
            out_of_order=t.out_of_order,
            checksum_ok=t.g_sum == t.g_expected_sum,
            deliveries_per_s=round(res.deliveries_per_s),
            cpu_us_per_delivery=round(res.cpu_us_per_delivery, 3),
            p50_ms=round(t.percentile_us(0.5) / 1000, 2),
            p99_ms=round(t.percentile_us(0.99) / 1000, 2),
            max_ms=round(t.lat_max_us / 1000, 2),
            client_mib_in=round(t.bytes_in / 2**20, 1),
            setup_s=round(float(res.extra.get("setup_s", 0)), 2),
            wall_s=round(res.wall_s, 2),
            errors=t.errors,
            reader=res.extra.get("reader", "python"),
            harness_cpu_s=round(float(res.extra.get("harness_cpu_s", 0.0)), 2),
        )
    elif res.scenario == "c":
        row.update(
            rss_per_conn_bytes=round(float(res.extra["rss_per_conn_bytes"])),
            rss_before_mib=round(int(res.extra["rss_before_kib"]) / 1024, 1),
            rss_after_mib=round(int(res.extra["rss_after_kib"]) / 1024, 1),
            setup_s=round(float(res.extra["setup_s"]), 2),
        )
    else:
        row.update(
            history_sync=res.extra["history_sync"],
            acked_per_s=round(float(res.extra["acked_per_s"])),
            sent=res.extra["sent"],
            acked=res.extra["acked"],
            rows_in_db=res.extra["rows_in_db"],
            errors=t.errors,
            cpu_us_per_ack=round(res.cpu_s * 1e6 / max(t.acked, 1), 2),
        )
    if t.error_samples:
        row["error_samples"] = t.error_samples
    if as_json:
        print(json.dumps(row), flush=True)
    else:
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)


def _profile_summary(path: Path | None, target: str) -> None:
    if path is not None and target == "chinwag" and path.exists():
        print(summarise(path), flush=True)


def _reader(choice: str, quiet: bool) -> str:
    if choice == "python":
        return "python"
    ok, why = reader_available()
    if ok:
        return "c"
    if choice == "c":
        raise BenchError(f"the compiled reader is not available: {why}")
    if not quiet:
        print(f"note: Python receivers (compiled reader not available: {why})", flush=True)
    return "python"


def run(args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    flags = tuple(args.server_flag)
    sc = args.scenario
    reader = _reader(args.reader, args.json) if sc in ("a", "b", "smoke") else "python"
    for _ in range(args.repeat):
        if sc in ("a", "smoke"):
            senders = args.senders or (10 if sc == "a" else 2)
            for target in _targets(args.target):
                results.append(
                    fanout(
                        "a" if sc == "a" else "smoke-a",
                        target,
                        receivers=args.receivers or (200 if sc == "a" else 5),
                        senders=senders,
                        messages=args.messages or (500 if sc == "a" else 20),
                        procs=args.procs,
                        exact=True if args.exact is None else args.exact,
                        reader=reader,
                        server_flags=flags if target == "chinwag" else (),
                        timeout=60.0 if sc == "a" else 30.0,
                        profile=args.profile,
                    )
                )
                _print(results[-1], args.json)
                _profile_summary(args.profile, target)
        if sc == "b":
            receivers = args.receivers or 2000
            senders = args.senders or 10
            duration = args.duration or 5.0
            total = args.rate or 1_000_000
            # each message reaches every receiver and the other senders
            per_sender_rate = total / (receivers + senders - 1) / senders
            for target in _targets(args.target):
                results.append(
                    fanout(
                        "b",
                        target,
                        receivers=receivers,
                        senders=senders,
                        messages=max(1, round(per_sender_rate * duration)),
                        rate=per_sender_rate,
                        procs=args.procs,
                        exact=False if args.exact is None else args.exact,
                        reader=reader,
                        server_flags=flags if target == "chinwag" else (),
                        # ngircd needs minutes to seat 2,000 people in one channel
                        timeout=900.0,
                        profile=args.profile,
                    )
                )
                _print(results[-1], args.json)
                _profile_summary(args.profile, target)
        if sc == "c":
            for target in _targets(args.target):
                results.append(
                    idle("c", target, connections=args.connections or 10_000, procs=args.procs)
                )
                _print(results[-1], args.json)
        if sc in ("d", "smoke"):
            syncs = ("full", "normal") if args.sync == "both" else (args.sync,)
            for sync in syncs:
                results.append(
                    history(
                        "d",
                        senders=args.senders or (20 if sc == "d" else 2),
                        duration=args.duration or (5.0 if sc == "d" else 0.5),
                        window=args.window if sc == "d" else 20,
                        history_sync=sync,
                    )
                )
                _print(results[-1], args.json)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("receivers", "senders", "messages", "connections", "window", "procs", "repeat"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"bench: --{name} must be at least 1", file=sys.stderr)
            return 2
    for name in ("rate", "duration"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            print(f"bench: --{name} must be positive", file=sys.stderr)
            return 2
    raise_nofile()
    if not args.json:
        print(f"machine: {machine().describe()}", flush=True)
    try:
        run(args)
    except (BenchError, ServerStartError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
