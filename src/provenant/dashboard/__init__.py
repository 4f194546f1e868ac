"""The dashboard: a single-page app served at ``/`` from the files beside this module."""

from fastapi import FastAPI

from provenant.dashboard.routes import DashboardRoute


def install_dashboard(app: FastAPI) -> None:
    """Serve the dashboard's files and its deep links; added after every ``/api`` route."""
    app.router.routes.append(DashboardRoute())
