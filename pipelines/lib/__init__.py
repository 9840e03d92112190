"""The library layer: plain functions that the Dagster assets and the CLI call."""
