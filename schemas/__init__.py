"""Schemas: pydantic models of the input files and pandera schemas of the published tables."""
