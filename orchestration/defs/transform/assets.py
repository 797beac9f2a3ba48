"""The dbt project (staging -> intermediate -> marts) as Dagster assets, its data tests as asset checks."""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.dbt_project import dbt_project, dbt_vars
from orchestration.defs.transform.translator import LayerTranslator
from orchestration.settings import Settings


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(),
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Build seeds and models and run their tests, as of SEGMENTS_AS_OF."""
    settings = Settings.from_env()
    settings.export_to_environ()
    build = dbt.cli(["build", "--vars", json.dumps(dbt_vars(settings))], context=context)
    yield from build.stream()
