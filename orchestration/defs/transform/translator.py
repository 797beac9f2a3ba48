"""Asset keys and groups follow the dbt folder (layer): marts/customer_segments -> group marts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


def layer_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """The first folder of a model's path; seeds form the `reference` layer, sources `raw`."""
    resource_type = dbt_resource_props["resource_type"]
    if resource_type == "source":
        return dbt_resource_props["source_name"]
    if resource_type == "seed":
        return "reference"
    fqn = dbt_resource_props["fqn"]
    return fqn[1] if len(fqn) > 2 else "models"


class LayerTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec
        layer = layer_of(props)
        return spec.replace_attributes(key=dg.AssetKey([layer, props["name"]]), group_name=layer)
