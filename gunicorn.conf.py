"""gunicorn's settings for the dashboard, read from the project folder (`gunicorn config.wsgi`, README "Production")."""

# Session ids are free text of any length, and part of the URL path: a 10,000-character id is 10-60 KB once
# percent-encoded, in the request line and, for htmx requests, in the HX-Current-URL header too.
# gunicorn's defaults (4,094 bytes per request line, 8,190 per header) answered such pages with 414 and 400.
limit_request_line = 0  # no limit (gunicorn's only setting above its maximum of 8,190 bytes)
limit_request_field_size = 256 * 1024
