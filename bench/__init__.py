"""Load benchmarks of the service against a bare FastAPI app with the same routes.

Run `make bench` (or `python -m bench`); see docs/benchmarks.md for the
latest results and the settings the run takes from the environment.
"""
