"""The dbt project (staging -> intermediate -> marts) as Dagster assets, its data tests as asset checks."""

import hashlib
import json
import shutil
import time
import uuid
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import incremental
from orchestration.dbt_project import build_args, dbt_project, dbt_vars
from orchestration.defs.resources import RunLock
from orchestration.defs.transform.translator import LayerTranslator
from orchestration.files import copy_whole
from orchestration.rules import RulesError
from orchestration.settings import Settings
from orchestration.warehouse import read_warehouse


class BuildConfig(dg.Config):
    """Set full_refresh in the launchpad (or `segments run --full-refresh`) to rebuild every incremental model."""

    full_refresh: bool = False


def docs_file(settings: Settings):
    """Where the dbt docs of the last build wait to be published (beside the warehouse)."""
    return settings.warehouse.parent / "docs" / "index.html"


PARSE_STATE = "partial_parse.msgpack"


KEPT_TARGETS = 5


def seeded_target_path(context: dg.AssetExecutionContext):
    """A target folder of this invocation alone (as dagster-dbt names them), holding the last parse: dbt then
    re-parses only what changed instead of the whole project (~7 s a run). The folders of the last few runs
    stay, for their compiled SQL, and so do those of the last day; older ones go, or a daily run would leave
    3-7 MB behind every day."""
    prefix = f"{context.op_execution_context.op.name}-"
    prune_targets(dbt_project.target_path, prefix, keep=KEPT_TARGETS - 1)
    path = dbt_project.target_path / f"{prefix}{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    path.mkdir(parents=True)
    if (dbt_project.target_path / PARSE_STATE).exists():
        shutil.copyfile(dbt_project.target_path / PARSE_STATE, path / PARSE_STATE)
    return path


def prune_targets(parent: Path, prefix: str, keep: int, min_age_seconds: float = 24 * 3600) -> None:
    """Remove the invocation folders named prefix* beyond the `keep` newest that are also older than a day: a
    build at 100M orders runs for hours, and the folder of a build still running must stay."""
    folders = sorted((p for p in parent.glob(f"{prefix}*") if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    oldest_kept = time.time() - min_age_seconds
    for folder in folders[:max(len(folders) - keep, 0)]:
        if folder.stat().st_mtime < oldest_kept:
            shutil.rmtree(folder, ignore_errors=True)


def keep_parse(target_path) -> None:
    """Hand this build's parse to the next run. dbt checks the files, vars and profile it was made from and
    parses again whatever differs, so a stale one is safe."""
    if (target_path / PARSE_STATE).exists():  # none when partial parsing is turned off (DBT_PARTIAL_PARSE=false)
        copy_whole(target_path / PARSE_STATE, dbt_project.target_path / PARSE_STATE)


def clv_fit_metadata(settings: Settings, context: dg.AssetExecutionContext) -> dict[str, dg.MetadataValue]:
    """Whether each CLV model was fitted, on how many customers, or why not (too little data is not a failure:
    the run goes on and the predictions stay NULL)."""
    with read_warehouse(settings) as con:
        fits = con.execute("select model, any_value(customers), any_value(log_likelihood), any_value(reason), "
                           "count(value) = count(*) from marts.clv_model_fit group by model order by model").fetchall()
    metadata = {}
    for model, customers, log_likelihood, reason, fitted in fits:
        if fitted:
            metadata[model] = dg.MetadataValue.text(
                f"fitted on {customers} customers (log-likelihood {log_likelihood:.1f})")
        else:
            metadata[model] = dg.MetadataValue.text(f"not fitted: {reason}")
            context.log.warning(f"{model} not fitted: {reason}; its predictions are NULL")
    return metadata


def cluster_metadata(settings: Settings, context: dg.AssetExecutionContext) -> dict[str, dg.MetadataValue]:
    """How many clusters, on how many customers and how well separated, or why there are none."""
    with read_warehouse(settings) as con:
        clusters, customers, silhouette, reason = con.execute(
            "select count(cluster), sum(customers), any_value(silhouette), any_value(reason) "
            "from marts.cluster_profiles").fetchall()[0]
    if reason:
        context.log.warning(f"no clusters: {reason}; cluster is NULL on customer_segments")
        return {"clusters": dg.MetadataValue.text(f"none: {reason}")}
    return {"clusters": dg.MetadataValue.text(
        f"{clusters} clusters of {customers} customers (silhouette {silhouette:.3f})")}


def explanation_metadata(settings: Settings, context: dg.AssetExecutionContext) -> dict[str, dg.MetadataValue]:
    """Per explained target: how many rules and their fidelity, or why it is not explained."""
    with read_warehouse(settings) as con:
        targets = con.execute("select target, count(rule), any_value(fidelity), any_value(reason) "
                              "from marts.segment_rules_explained group by target order by target").fetchall()
    metadata = {}
    for target, rules, fidelity, reason in targets:
        if reason:
            context.log.warning(f"{target} not explained: {reason}")
            metadata[target] = dg.MetadataValue.text(f"not explained: {reason}")
        else:
            metadata[target] = dg.MetadataValue.text(f"{rules} rules place {fidelity:.1%} of customers correctly")
    return metadata


def association_metadata(settings: Settings, context: dg.AssetExecutionContext) -> dict[str, dg.MetadataValue]:
    """How many rules over how many baskets, or why there are none (no order items, or no pair frequent and lifted
    enough)."""
    with read_warehouse(settings) as con:
        baskets, products, categories = con.execute("""
            select (select count(distinct order_id) from intermediate.int_order_lines_completed),
                count(*) filter (where item_type = 'product' and segment = 'all'),
                count(*) filter (where item_type = 'category' and segment = 'all')
            from marts.product_associations""").fetchall()[0]
    if not baskets:
        reason = "no order items of completed orders up to the as-of date"
    elif not products + categories:
        reason = (f"no pair of the {baskets} orders with items passes association_min_orders, "
                  "association_min_support and association_min_lift")
    else:
        return {"associations": dg.MetadataValue.text(
            f"{products} product and {categories} category rules over all {baskets} orders with items")}
    context.log.warning(f"no product associations: {reason}; recommendations come from browsing and interests")
    return {"associations": dg.MetadataValue.text(f"none: {reason}")}


# what the mining models say about their fit, added to their materialisations once dbt has let go of the warehouse
FIT_METADATA = {
    dg.AssetKey(["marts", "clv_model_fit"]): clv_fit_metadata,
    dg.AssetKey(["marts", "cluster_profiles"]): cluster_metadata,
    dg.AssetKey(["marts", "segment_rules_explained"]): explanation_metadata,
    dg.AssetKey(["marts", "product_associations"]): association_metadata,
}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, run_lock: RunLock, config: BuildConfig):
    """Build seeds and models and run their data tests, as of SEGMENTS_AS_OF, with the rules of segments.yml.
    Staging, triage and the daily aggregates only process what changed, unless this is a full refresh."""
    settings = Settings.from_env()
    settings.export_to_environ()
    state = incremental.fingerprint(settings)
    last_build = incremental.last_build(settings, state)
    full_refresh = config.full_refresh or last_build == "other"
    context.log.info("full refresh: every incremental model is rebuilt" if full_refresh
                     else "incremental: only rows of new files and the keys they touch are processed")
    try:
        variables = dbt_vars(settings)
    except RulesError as error:
        raise dg.Failure(str(error)) from error
    # the data dictionary of this build (no recompile), published next to the report; the same code, seeds and
    # vars give the same dictionary, so it is generated only when one of them changed (~6 s a run), from the
    # manifest of the build, which only then writes one
    vars_args = ["--vars", json.dumps(variables)]
    key = hashlib.sha256((state + json.dumps(vars_args)).encode()).hexdigest()
    cached = dbt_project.target_path / "docs-cache" / f"{key}.html"
    args = build_args(variables, full_refresh, seeds_loaded=not full_refresh and last_build == "same",
                      write_json=not cached.exists())
    build = dbt.cli(args, target_path=seeded_target_path(context), context=context)
    # dbt holds the warehouse until it ends, so the fits are read then: the first fit's event, and every later one
    # (Dagster takes a step's assets in dependency order), wait until dbt is done
    held: list = []
    for event in build.stream():
        if not held and not (isinstance(event, dg.Output)
                             and context.asset_key_for_output(event.output_name) in FIT_METADATA):
            yield event
        else:
            held.append(event)
    for event in held:
        key = context.asset_key_for_output(event.output_name) if isinstance(event, dg.Output) else None
        if key in FIT_METADATA:
            event = event.with_metadata({**event.metadata, **FIT_METADATA[key](settings, context)})
        yield event
    keep_parse(build.target_path)
    # only a build that succeeded matches the fingerprint; until one does, every run is a full refresh
    incremental.record(settings, state)
    docs = docs_file(settings)
    docs.parent.mkdir(parents=True, exist_ok=True)
    if not cached.exists():
        docs_args = ["docs", "generate", "--static", "--no-compile", *vars_args]
        dbt.cli(docs_args, target_path=build.target_path, context=context).wait()
        cached.parent.mkdir(parents=True, exist_ok=True)
        copy_whole(build.target_path / "static_index.html", cached)  # dbt clean empties the cache
    shutil.copyfile(cached, docs)
