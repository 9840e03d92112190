"""The website's templates (Jinja2) and static files; pages are made by pipelines.lib.site."""
