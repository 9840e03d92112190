"""AI Footprints: the Dagster code location and its library.

`pipelines.lib` holds plain, typed functions on polars frames (loading, units,
normalising, deriving, publishing); `pipelines.assets` wraps them thinly as Dagster
assets by layer; `pipelines.definitions` is the code location the UI loads.
"""
