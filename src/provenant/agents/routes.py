from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from provenant.agents import service
from provenant.agents.schemas import AgentCreate, AgentGetOrCreate, AgentRead, AgentStatus, AgentUpdate
from provenant.auth.deps import RequireDelete, RequireIngest, RequireRead, RequireWrite
from provenant.hot_path_sql import json_array
from provenant.lean_route import LeanRoute
from provenant.models import Agent
from provenant.paging import CursorParam, Limit, PageRequest, link_next
from provenant.schemas import Success
from provenant.unit_of_work import DatabaseDep, SessionDep

# Older clients expect the whole org in one answer; 200 is the most one page holds.
AGENTS_DEFAULT_LIMIT = 200

router = APIRouter(prefix="/api/agents", tags=["agents"], route_class=LeanRoute)


@router.get("", response_model=list[AgentRead])
async def list_agents(
    request: Request,
    database: DatabaseDep,
    caller: RequireRead,
    status: Annotated[AgentStatus | None, Query()] = None,
    limit: Limit = AGENTS_DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Response:
    """The org's agents, most recently updated first."""
    page = service.list_agents_json(database.reader, caller, status=status, page=PageRequest.of(limit, cursor))
    response = Response(json_array(page.items), media_type="application/json")
    link_next(request, response, page.next)
    return response


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AgentRead)
async def create_agent(session: SessionDep, caller: RequireWrite, body: AgentCreate) -> Agent:
    return service.create_agent(session, caller, **body.model_dump())


@router.post(
    "/get-or-create",
    response_model=AgentRead,
    responses={201: {"model": AgentRead, "description": "Created"}, 200: {"description": "Existing"}},
)
async def get_or_create_agent(
    session: SessionDep, caller: RequireIngest, body: AgentGetOrCreate, response: Response
) -> Agent:
    agent, created = service.get_or_create_agent(session, caller, **body.model_dump())
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return agent


@router.get("/{agent_id}", response_model=AgentRead)
async def get_agent(session: SessionDep, caller: RequireRead, agent_id: str) -> Agent:
    return service.get_agent(session, caller, agent_id)


@router.patch("/{agent_id}", response_model=AgentRead)
async def update_agent(session: SessionDep, caller: RequireWrite, agent_id: str, body: AgentUpdate) -> Agent:
    return service.update_agent(session, caller, agent_id, body.model_dump(exclude_unset=True))


@router.delete("/{agent_id}", response_model=Success)
async def archive_agent(session: SessionDep, caller: RequireDelete, agent_id: str) -> Success:
    """Sets status to ARCHIVED. MEMBER archives only what they created; VIEWER never."""
    service.archive_agent(session, caller, agent_id)
    return Success()
