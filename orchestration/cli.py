"""The `segments` console script: run the pipeline, or generate a demo landing zone and run on it."""

from __future__ import annotations

import argparse
import sys

import duckdb

from orchestration import rules
from orchestration.demo import DemoSpec, generate
from orchestration.settings import DEFAULTS, HELP, Settings, SettingsError


def _env_help() -> str:
    lines = ["environment variables (a .env file in the working folder may set them):"]
    for key, default in DEFAULTS.items():
        lines.append(f"  {key:<30} {HELP[key]} (default: {default or 'none'})")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segments",
        description="Customer segmentation pipeline: load, transform, check and publish for BI.",
        epilog=_env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="load, transform, check and publish, as of SEGMENTS_AS_OF")
    run.add_argument("--quiet", action="store_true", help="print nothing on success")
    demo = commands.add_parser(
        "demo", help="generate a sample landing zone into SEGMENTS_LANDING_DIR and run on it")
    gen = commands.add_parser("generate", help="only generate the sample landing zone (no run)")
    commands.add_parser("check-rules", help="validate segments.yml without running anything")
    for sub in (demo, gen):
        sub.add_argument("--customers", type=int, default=DemoSpec.customers)
        sub.add_argument("--orders", type=int, default=DemoSpec.orders)
        sub.add_argument("--seed", type=int, default=DemoSpec.seed)
        sub.add_argument("--format", choices=("csv", "parquet"), default=DemoSpec.file_format)
        sub.add_argument("--no-items", action="store_true", help="skip order_items and products")
    demo.add_argument("--quiet", action="store_true", help="print nothing on success")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"segments: {error}", file=sys.stderr)
        return 2
    if args.command == "check-rules":
        try:
            compiled = rules.load()
        except rules.RulesError as error:
            print(f"segments: {error}", file=sys.stderr)
            return 2
        print(f"segments.yml is valid: {len(compiled['dimensions'])} dimension(s), {len(compiled['tags'])} tag(s)")
        return 0
    if args.command in ("demo", "generate"):
        spec = DemoSpec(customers=args.customers, orders=args.orders, seed=args.seed,
                        file_format=args.format, with_items=not args.no_items)
        counts = generate(settings.landing_dir, spec)
        if not getattr(args, "quiet", False):
            print(f"generated {counts} into {settings.landing_dir}")
        if args.command == "generate":
            return 0
    return _run(settings, quiet=args.quiet)


def _run(settings: Settings, quiet: bool) -> int:
    from orchestration.runner import run_pipeline

    log_file = settings.warehouse.parent / "logs" / "segments-run.log"
    outcome = run_pipeline(log_file)
    if not outcome.success:
        print(f"segments: run failed: {outcome.reason} (full log: {log_file})", file=sys.stderr)
        return 1
    if not quiet:
        print(_summary(settings))
    return 0


def _summary(settings: Settings) -> str:
    bi_file = settings.publish_dir / "bi.duckdb"
    with duckdb.connect(str(bi_file), read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from customer_segments").fetchone()[0]
        segments = con.execute(
            "select segment, customers from segment_summary "
            "where dimension = 'business_segment' order by customers desc").fetchall()
        audit = con.execute(
            "select entity, sum(rows_read), sum(rows_quarantined) from load_audit group by entity "
            "order by entity").fetchall()
    lines = [f"as of {as_of}: " + ", ".join(f"{s} {n}" for s, n in segments)]
    lines += [f"  {entity}: {read} rows read, {bad} quarantined" for entity, read, bad in audit]
    lines.append(f"published to {bi_file} and {settings.publish_dir / 'current'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
