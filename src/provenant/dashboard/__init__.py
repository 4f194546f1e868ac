"""The dashboard: a single-page app served at ``/`` from the files beside this module."""

from fastapi import FastAPI


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's files and its deep links; added after every ``/api`` route."""
