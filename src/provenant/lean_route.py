"""A route class whose simplest routes skip FastAPI's general request handler.

FastAPI's handler serves every shape of route: bodies, forms, nested and yielding dependencies,
overrides, response models, streams. Per request it walks the dependency tree again and asks of
each parameter what kind it is (``solve_dependencies``): for the agent list that was more of the
server's CPU than authenticating the caller.

A route takes the lean path when its whole signature is of the kind the hot reads use: dependencies
that each take only the request (``auth.deps``, ``unit_of_work``), scalar query parameters, the
request itself, and an answer the route builds itself (``-> Response``). Everything about such a
route is known when it is made; what is left per request is what it declares: each dependency
called once, in order, then the query parameters validated by FastAPI's own fields (the same 422
details), then the route. Any other route, and any route whose shape this does not recognise, keeps
FastAPI's handler. The route, its OpenAPI description and its errors are FastAPI's either way.
"""

import inspect
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

_Dependency = Callable[[Request], Awaitable[Any]]


class _Query(NamedTuple):
    name: str  # the route's parameter
    alias: str  # the query string's name
    field: Any  # FastAPI's ModelField: validates as FastAPI would, with the same errors
    default: Any


class _Plan(NamedTuple):
    dependencies: tuple[tuple[str, _Dependency], ...]
    query: tuple[_Query, ...]
    request_name: str | None
    endpoint: Callable[..., Awaitable[Response]]


def _is_scalar(annotation: Any) -> bool:
    """A query parameter of one value (``str``, ``int``, a ``Literal``, optional or not), never a list."""
    if get_origin(annotation) in (Union, types.UnionType):
        return all(_is_scalar(member) for member in get_args(annotation))
    return annotation in (str, int, float, bool, type(None)) or get_origin(annotation) is Literal


def _is_request_only(dependant: Dependant) -> bool:
    """A dependency ``async def f(request)``: nothing of its own to solve."""
    return (
        inspect.iscoroutinefunction(dependant.call)
        and dependant.request_param_name is not None
        and not dependant.dependencies
        and not (dependant.path_params or dependant.query_params or dependant.header_params)
        and not (dependant.cookie_params or dependant.body_params)
        and dependant.use_cache
        and dependant.name is not None
    )


def _plan(route: APIRoute) -> _Plan | None:
    """How to call ``route`` without FastAPI's general handler; None when it needs that handler."""
    dependant = route.dependant
    endpoint = dependant.call
    if (
        endpoint is None
        or route.body_field is not None
        or route.dependency_overrides_provider is not None
        or not inspect.iscoroutinefunction(endpoint)
        or inspect.signature(endpoint).return_annotation is not Response
        or dependant.path_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.http_connection_param_name
        or dependant.websocket_param_name
        or dependant.security_scopes_param_name
        or not all(_is_request_only(sub) for sub in dependant.dependencies)
        or len({sub.call for sub in dependant.dependencies}) != len(dependant.dependencies)
    ):
        return None
    query: list[_Query] = []
    for field in dependant.query_params:
        info = field.field_info
        if not _is_scalar(info.annotation) or info.is_required() or info.validate_default or info.validation_alias:
            return None
        query.append(_Query(field.name, field.alias, field, info.default))
    dependencies = tuple((sub.name, sub.call) for sub in dependant.dependencies if sub.name and sub.call)
    return _Plan(dependencies, tuple(query), dependant.request_param_name, endpoint)


class LeanRoute(APIRoute):
    """FastAPI's APIRoute; for a route of the shape ``_plan`` recognises, a handler of that shape only."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        plan = _plan(self)
        if plan is None:
            return super().get_route_handler()
        dependencies, query, request_name, endpoint = plan

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {}
            for name, dependency in dependencies:  # in the signature's order, as FastAPI solves them
                values[name] = await dependency(request)
            if query:
                received = request.query_params
                errors: list[Any] = []
                for parameter in query:
                    value = received.get(parameter.alias)
                    if value is None:  # absent: the default, unvalidated, as FastAPI does
                        values[parameter.name] = parameter.default
                        continue
                    validated, failed = parameter.field.validate(value, values, loc=("query", parameter.alias))
                    if failed:
                        errors.extend(failed)
                    else:
                        values[parameter.name] = validated
                if errors:
                    raise RequestValidationError(errors)
            if request_name is not None:
                values[request_name] = request
            return await endpoint(**values)

        return handler
