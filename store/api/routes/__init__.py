"""The ingest service's routes, one module per resource."""
