"""Provenant: identity and access for an AgentOps platform."""

__version__ = "0.1.0"
