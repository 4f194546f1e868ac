"""Longest modules first, so that the two pytest-xdist workers finish together.

scripts/test runs ``--dist loadscope``: a module's tests go to one worker (its module-scoped servers
start once), and a worker takes the next module when it is done with one. Left in collection order,
or in pytest-xdist's own (most tests first), the modules that start servers and browsers, few tests
each but most of the time, came last: one worker ran them alone for minutes while the other sat idle.

The order comes from ``tests/module_seconds.json``: each module's seconds in a whole run, as recorded
by ``pytest --record-module-seconds`` (the durations pytest reports, setup and teardown included). A
module not in it yet goes first, where a long one does no harm. Stale figures cost time, never a result.

The dashboard's modules are one unit of work, not one each (``Scheduling``): its Playwright and Chromium are
package-scoped, and a worker that went from a dashboard module to another module and back launched them again,
each time (two CPU-seconds, a dozen times a run). As one unit, one worker launches them once.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

MODULE_SECONDS = Path(__file__).with_name("module_seconds.json")
_recorded: defaultdict[str, float] = defaultdict(float)
# It waits for the container image that scripts/test builds in the background from the run's start: last, the
# build has long finished, where first it would hold a worker idle for the build's minutes.
RUN_LAST = frozenset({"tests/test_container_image.py"})
# Packages whose modules run as one unit on one worker, one after another (see above).
ONE_UNIT = ("tests/dashboard/",)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-module-seconds",
        action="store_true",
        help=f"write each module's seconds in this run to {MODULE_SECONDS.name}, which orders the modules",
    )


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def unit_of(nodeid: str) -> str:
    """What one worker runs without another module in between: a module, or all of a ``ONE_UNIT`` package."""
    module = module_of(nodeid)
    return next((package for package in ONE_UNIT if module.startswith(package)), module)


class Scheduling(LoadScopeScheduling):
    """``--dist loadscope`` with ``unit_of``'s units instead of modules (and classes: none here holds a server)."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling | None:
    return Scheduling(config, log) if config.getvalue("dist") == "loadscope" else None


@pytest.hookimpl(trylast=True)  # after pytest's own reordering within modules (by fixture parameters)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    seconds: dict[str, float] = json.loads(MODULE_SECONDS.read_text()) if MODULE_SECONDS.exists() else {}
    unmeasured = max(seconds.values(), default=0) + 1
    modules = {module_of(item.nodeid) for item in items}
    weight: defaultdict[str, float] = defaultdict(float)  # a unit's: the sum of its modules'
    for module in modules:
        weight[unit_of(module)] += seconds.get(module, unmeasured)
    # sort() is stable: a module's tests keep their order, and units of equal weight theirs; a unit's modules stay
    # together, longest first. RUN_LAST's go after all others, whatever their seconds.
    items.sort(
        key=lambda item: (
            module_of(item.nodeid) in RUN_LAST,
            -weight[unit_of(item.nodeid)],
            unit_of(item.nodeid),
            -seconds.get(module_of(item.nodeid), unmeasured),
        )
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under pytest-xdist this runs in the main process too, with every worker's reports.
    _recorded[module_of(report.nodeid)] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not config.getoption("record_module_seconds") or hasattr(config, "workerinput"):
        return
    # The modules this run measured replace their figures; the others keep theirs (scripts/test runs pytest twice:
    # the serial modules' run must not forget the parallel ones).
    seconds: dict[str, float] = json.loads(MODULE_SECONDS.read_text()) if MODULE_SECONDS.exists() else {}
    seconds.update((module, round(s, 1)) for module, s in _recorded.items())
    seconds = {module: s for module, s in seconds.items() if (config.rootpath / module).exists()}  # none removed
    longest_first = dict(sorted(seconds.items(), key=lambda kv: -kv[1]))
    MODULE_SECONDS.write_text(json.dumps(longest_first, indent=1) + "\n")
