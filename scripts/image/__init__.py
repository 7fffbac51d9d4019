"""Build the container image and run it end to end: ``make image``, ``make image-smoke`` (docs/DEPLOY.md)."""
