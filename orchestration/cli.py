"""The `segments` console script: run the pipeline, or generate a demo landing zone and run on it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

import duckdb

from orchestration import rules
from orchestration.db import connect
from orchestration.demo import DemoSpec, generate
from orchestration.freshness import nothing_new
from orchestration.lock import RunLockedError, run_lock
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
    demo = commands.add_parser(
        "demo", help="generate a sample landing zone into SEGMENTS_LANDING_DIR and run on it")
    gen = commands.add_parser("generate", help="only generate the sample landing zone (no run)")
    commands.add_parser("check-rules", help="validate segments.yml without running anything")
    forget = commands.add_parser(
        "forget", help="erase customers from raw, warehouse, history, kept releases and audience files")
    forget.add_argument("customer_ids", nargs="+", metavar="customer_id")
    preview = commands.add_parser(
        "preview", help="the segments proposed rules would give on the current warehouse (from -> to), publishing "
                        "nothing")
    preview.add_argument("--rules", required=True, type=Path, metavar="FILE", help="the proposed segments.yml")
    preview.add_argument("--out", type=Path, default=Path("preview"), metavar="DIR",
                         help="where the matrix and the movers are written as CSV and JSON (default: ./preview)")
    backfill = commands.add_parser(
        "backfill", help="rebuild the segment history by day over a range of past as-of dates, then publish as of "
                         "the last")
    backfill.add_argument("--from", dest="first", required=True, type=_day, metavar="YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", required=True, type=_day, metavar="YYYY-MM-DD")
    backfill.add_argument("--quiet", action="store_true", help="print nothing on success")
    for sub in (demo, gen):
        sub.add_argument("--customers", type=int, default=DemoSpec.customers)
        sub.add_argument("--orders", type=int, default=DemoSpec.orders)
        sub.add_argument("--seed", type=int, default=DemoSpec.seed)
        sub.add_argument("--format", choices=("csv", "parquet"), default=DemoSpec.file_format)
        sub.add_argument("--no-items", action="store_true", help="skip order_items and products")
    for sub in (run, demo):
        sub.add_argument("--full-refresh", action="store_true",
                         help="rebuild every incremental model from the raw rows instead of only what changed")
        output = sub.add_mutually_exclusive_group()
        output.add_argument("--quiet", action="store_true", help="print nothing on success (errors still go to stderr)")
        output.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
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
    if args.command == "forget":
        return _forget(settings, args.customer_ids)
    if args.command == "preview":
        return _preview(settings, args.rules, args.out)
    if args.command == "backfill":
        return _backfill(args.first, args.last, args.quiet)
    if args.command in ("demo", "generate"):
        spec = DemoSpec(customers=args.customers, orders=args.orders, seed=args.seed,
                        file_format=args.format, with_items=not args.no_items)
        counts = generate(settings.landing_dir, spec)
        if not (getattr(args, "quiet", False) or getattr(args, "json", False)):  # generate has neither
            print(f"generated {counts} into {settings.landing_dir}")
        if args.command == "generate":
            return 0
    return _run(settings, quiet=args.quiet, as_json=args.json, demo=args.command == "demo",
                full_refresh=args.full_refresh)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _backfill(first: date, last: date, quiet: bool) -> int:
    """The pipeline as of `last` (landed rows and daily aggregates current), the segments of each day from `first`
    to the day before `last` (Dagster's segments_backfill job), and the pipeline as of `last` again: its
    segment_history holds the days, and it publishes (orchestration/history.py)."""
    from orchestration.history import HISTORY_START, BackfillError, days_between, require_duckdb
    from orchestration.runner import evaluate_days, run_pipeline

    if last < first:
        print(f"segments: backfill: --from {first} is after --to {last}", file=sys.stderr)
        return 2
    if first.isoformat() < HISTORY_START:
        print(f"segments: backfill: --from {first} is before {HISTORY_START}, the first day history can hold",
              file=sys.stderr)
        return 2
    os.environ["SEGMENTS_AS_OF"] = last.isoformat()
    settings = Settings.from_env()
    try:
        require_duckdb(settings)
    except BackfillError as error:
        print(f"segments: backfill: {error}", file=sys.stderr)
        return 2
    log_file = settings.warehouse.parent / "logs" / "segments-backfill.log"
    days = days_between(first, last)[:-1]
    try:
        with run_lock(settings, purpose="segments backfill"):
            steps = [("run as of " + str(last), lambda: run_pipeline(log_file))]
            if days:
                steps.append((f"evaluate {len(days)} day(s) {days[0]}..{days[-1]}",
                              lambda: evaluate_days(log_file, days[0], days[-1])))
                steps.append(("rebuild the history and publish", lambda: run_pipeline(log_file)))
            for name, step in steps:
                if not quiet:
                    print(f"backfill: {name}", flush=True)
                outcome = step()
                if not outcome.success:
                    print(f"segments: backfill failed ({name}): {outcome.reason} (full log: {log_file})",
                          file=sys.stderr)
                    return 1
    except RunLockedError as error:
        print(f"segments: {error}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"backfilled {len(days) + 1} day(s) {first}..{last}; published as of {last} to {settings.publish_dir}")
    return 0


def _preview(settings: Settings, rules_file: Path, out_dir: Path) -> int:
    from orchestration.preview import PreviewError, describe, preview

    try:
        result = preview(settings, rules_file, out_dir)
    except (rules.RulesError, PreviewError, RunLockedError, duckdb.Error, OSError) as error:
        print(f"segments: preview failed: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(describe(result))
    return 0


def _forget(settings: Settings, customer_ids: list[str]) -> int:
    from orchestration.erasure import forget

    try:
        erasures = forget(settings, customer_ids)
    except (RunLockedError, duckdb.Error, OSError) as error:
        print(f"segments: forget failed: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    for customer_id, erasure in zip(customer_ids, erasures, strict=True):
        state = "erased before; " if erasure.already_erased else ""
        print(f"{customer_id}: {state}{erasure.rows_removed} warehouse rows removed "
              f"({', '.join(erasure.tables) or 'none left'}); kept releases and audience files rewritten; "
              f"logged as {erasure.customer_hash[:16]}…")
    return 0


def _run(settings: Settings, quiet: bool, as_json: bool, demo: bool = False, full_refresh: bool = False) -> int:
    log_file = settings.warehouse.parent / "logs" / "segments-run.log"
    try:
        with run_lock(settings):
            unchanged = None if full_refresh else nothing_new(settings)
            if unchanged:
                if not (quiet or as_json):
                    print(f"nothing new since release {unchanged} (same landing files, code, rules and settings): "
                          f"the publication is current; `segments run --full-refresh` rebuilds anyway")
                summary = {**_summary(settings, {}, log_file), "status": "unchanged", "release": unchanged}
                return _report(settings, summary, quiet, as_json, demo)
            if not (quiet or as_json):
                print(f"running on {settings.engine}: load {settings.landing_dir} -> transform -> checks -> publish "
                      f"{settings.publish_dir}", flush=True)
            from orchestration import quality

            # Great Expectations imports on the other core while this process imports Dagster and dbt
            quality.start_worker()
            try:
                from orchestration.runner import run_pipeline

                outcome = run_pipeline(log_file, progress=not (quiet or as_json), full_refresh=full_refresh)
            finally:
                quality.stop_worker()
    except RunLockedError as error:
        print(f"segments: {error}", file=sys.stderr)
        return 1
    if not outcome.success:
        print(f"segments: run failed: {outcome.reason} (full log: {log_file})", file=sys.stderr)
        if as_json:
            print(json.dumps({"status": "failed", "reason": outcome.reason, "log": str(log_file),
                              "phase_seconds": outcome.phase_seconds}, ensure_ascii=False))
        return 1
    return _report(settings, _summary(settings, outcome.phase_seconds, log_file), quiet, as_json, demo,
                   outcome.warnings)


def _report(settings: Settings, summary: dict, quiet: bool, as_json: bool, demo: bool,
            check_warnings: list[str] | None = None) -> int:
    """The summary of a run that succeeded (or had nothing new), then its warnings on stderr: after the run, so that
    a failed run still says one line on stderr (CONTRACT section 3)."""
    warnings = [DEMO_KEY_WARNING] if settings.uses_demo_key and not demo else []
    warnings += check_warnings or []
    summary["warnings"] = warnings
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
    elif not quiet:
        print(_text(summary))
    for warning in warnings:
        print(f"segments: warning: {warning}", file=sys.stderr)
    return 0


DEMO_KEY_WARNING = ("SEGMENTS_PSEUDONYM_KEY is not set, names, emails and phones were pseudonymised with the "
                    "public demo key; set a secret of your own")


def _summary(settings: Settings, phases: dict[str, float], log_file) -> dict:
    bi_file = settings.publish_dir / "bi.duckdb"
    with connect(bi_file, settings, read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from customer_segments").fetchone()[0]
        segments = con.execute(
            "select segment, customers from segment_summary "
            "where dimension = 'business_segment' order by customers desc").fetchall()
        audit = con.execute(
            "select entity, sum(rows_read), sum(rows_accepted), sum(rows_quarantined), sum(rows_duplicate) "
            "from load_audit group by entity order by entity").fetchall()
        customers = con.execute("select count(*) from customer_segments").fetchone()[0]
    return {
        "status": "succeeded",
        "engine": settings.engine,
        "as_of_date": str(as_of),
        "customers": customers,
        "business_segments": dict(segments),
        "phase_seconds": phases,
        "entities": {e: {"rows_read": r, "rows_accepted": a, "rows_quarantined": q, "rows_duplicate": d}
                     for e, r, a, q, d in audit},
        "outputs": {
            "bi_duckdb": str(bi_file),
            "parquet": str(settings.publish_dir / "current"),
            "report": str(settings.publish_dir / "current" / "report.html"),
            "audiences": str(settings.publish_dir / "current" / "audiences"),
            "quality": str(settings.publish_dir / "quality" / "index.html"),
            "log": str(log_file),
        },
    }


def _text(summary: dict) -> str:
    lines = [f"  {phase:<10} {seconds:>7.1f} s" for phase, seconds in summary["phase_seconds"].items()]
    lines.append(f"as of {summary['as_of_date']}: {summary['customers']} customers")
    lines += [f"  {segment:<14} {n}" for segment, n in summary["business_segments"].items()]
    lines += [f"  {entity}: {e['rows_read']} rows read, {e['rows_accepted']} accepted, "
              f"{e['rows_quarantined']} quarantined, {e['rows_duplicate']} duplicates"
              for entity, e in summary["entities"].items()]
    lines += [f"{name}: {path}" for name, path in summary["outputs"].items()]
    return "\n".join(lines)


def entry() -> int:
    """The console script: after our own last line, nothing more reaches stderr (CONTRACT section 3: one line)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # whoever read the output stopped early (`segments run | head -1`): end as Unix tools do on SIGPIPE, with no
        # traceback; the run itself was over (or is refused) by then, and its publication stands as it is
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    sys.stderr.flush()
    # DuckDB's bindings report objects still alive at interpreter exit on stderr (nanobind "leaked instances")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    return code


if __name__ == "__main__":
    sys.exit(entry())
