"""Fuzzers of `make fuzz`: the API against its OpenAPI schema, and the image decoder."""
