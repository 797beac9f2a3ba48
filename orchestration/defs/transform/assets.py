"""The dbt project (staging -> intermediate -> marts) as Dagster assets, its data tests as asset checks."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import build_args, dbt_project
from orchestration.defs.transform.translator import LayerTranslator
from orchestration.rules import RulesError
from orchestration.settings import Settings


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build seeds and models and run their data tests, as of SEGMENTS_AS_OF, with the rules of segments.yml."""
    settings = Settings.from_env()
    settings.export_to_environ()
    try:
        args = build_args(settings)
    except RulesError as error:
        raise dg.Failure(str(error)) from error
    yield from dbt.cli(args, context=context).stream()
