"""The clinician's web pages (server-rendered Jinja2 + vendored htmx) and their SVG charts."""
