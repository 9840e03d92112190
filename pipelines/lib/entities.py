"""Entity matching, in one place: a name or alias names an entity when it equals the entity's
name or one of its aliases after trimming spaces and ignoring case, and nothing else (no fuzzy
matching). Used for figures' subjects and hardware, the grid's organisations, publishers, and
the models of upstream snapshots."""

from __future__ import annotations

import polars as pl


def name_key(column: str) -> pl.Expr:
    """A name as it is matched: trimmed, lower-case."""
    return pl.col(column).str.strip_chars().str.to_lowercase()


def entity_lookup(entities: pl.DataFrame, name: str = "entity", kind: str = "entity_type") -> pl.DataFrame:
    """key (a matched name or alias) -> the canonical entity and its type, from entities as
    written (name, type) or as published (entity, entity_type)."""
    names = entities.select(
        name_key(name).alias("key"), pl.col(name).alias("entity"), pl.col(kind).alias("entity_type")
    )
    aliases = (
        entities.explode("aliases")
        .drop_nulls("aliases")
        .select(name_key("aliases").alias("key"), pl.col(name).alias("entity"), pl.col(kind).alias("entity_type"))
    )
    return pl.concat([names, aliases]).unique(subset="key", keep="first", maintain_order=True)


def entity_names(entities: pl.DataFrame) -> dict[str, str]:
    """key -> canonical entity, for published entities."""
    return dict(entity_lookup(entities).select("key", "entity").iter_rows())


def entity_zones(entities: pl.DataFrame) -> pl.DataFrame:
    """entity -> zone, for published entities: its own zone, else its parent's (a state is in
    its country's zone), else its grandparent's."""
    zones = entities.select("entity", "parent", "zone")
    parents = zones.select(pl.col("entity").alias("parent"), pl.col("zone").alias("_up"), pl.col("parent").alias("_gp"))
    grandparents = zones.select(pl.col("entity").alias("_gp"), pl.col("zone").alias("_up2"))
    return (
        zones.join(parents, on="parent", how="left")
        .join(grandparents, on="_gp", how="left")
        .select("entity", pl.coalesce("zone", "_up", "_up2").alias("zone"))
        .drop_nulls("zone")
    )
