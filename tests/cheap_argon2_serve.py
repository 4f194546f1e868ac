"""`python -m provenant`, hashing passwords with argon2-cffi's CHEAPEST parameters: how tests start servers.

Run as a script: ``python tests/cheap_argon2_serve.py serve --port N [--workers N]``. The one difference
from the real command is the patch the in-process tests have (tests/conftest.py), so a test server is
the real `provenant serve` without a quarter-second of CPU and 64 MiB per sign-in. The product has no
setting for this on purpose: a knob that weakens password hashing would be a footgun in production.

The patch runs at import, not under ``__main__``: with ``--workers N`` uvicorn starts each worker
through multiprocessing's spawn, which runs this file again (as ``__mp_main__``) in the new interpreter
before the worker imports the app, so every worker hashes alike.

``python tests/cheap_argon2_serve.py --forks`` is the same command held ready (tests/forks.py): it imports the
server once, then forks a server from itself for each request on its stdin. Importing the app is most of what a
server's start costs (about 0.7 s of CPU of 0.8); a forked server starts in a tenth of a second on 0.06 s, and
from there runs the very code ``serve`` runs, in a process of its own with the test's environment.
"""

import sys
from pathlib import Path

# Running a file puts its directory first on sys.path: tests/ holds packages named auth, db, sessions...
# that must not shadow anything the server imports, as they do not under `python -m provenant`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import atexit
import json
import os
import signal
import threading
import traceback

from argon2 import PasswordHasher, profiles

from provenant.accounts import passwords
from provenant.cli import main


def hash_cheaply() -> None:
    passwords._password_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    passwords.dummy_password_hash.cache_clear()  # unknown emails are checked against a hash made alike


hash_cheaply()


def run_forks() -> None:
    """Answer requests, one JSON object a line on stdin, one answer a line on stdout, until stdin closes:
    ``{"start": [arguments], "env": {...}, "cwd": path, "log": path}`` -> ``{"pid": n}``, a server forked with
    that environment, working directory and log (stdout and stderr); ``{"poll": pid}`` -> ``{"returncode": n}``,
    as ``subprocess.Popen.poll`` says it (null while it runs, -N when signal N ended it)."""
    import provenant.app  # noqa: F401 - what the forked servers no longer import each

    # Only a process with one thread can be forked safely: another thread's locks would stay held in the child.
    assert threading.active_count() == 1, threading.enumerate()
    exited: dict[int, int] = {}
    children: set[int] = set()
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if "start" in request:
            pid = os.fork()
            if pid == 0:
                _become_server(request)
            children.add(pid)
            answer: dict[str, int | None] = {"pid": pid}
        else:
            pid = request["poll"]
            if pid not in exited:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    exited[pid] = os.waitstatus_to_exitcode(status)
                    children.discard(pid)
            answer = {"returncode": exited.get(pid)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    for pid in children:  # the test process ended without stopping them
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _become_server(request: dict[str, object]) -> None:
    """In the forked child: the test's environment, directory and log, then `provenant serve` as a script would."""
    code = 1
    try:
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[call-overload]
        arguments = list(request["start"])  # type: ignore[call-overload]
        sys.argv = [__file__, *arguments]  # multiprocessing's spawn (--workers) runs this file again
        main(arguments)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
        if isinstance(exit.code, str):
            print(exit.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()  # as the interpreter's exit would (its handlers were registered by the imports)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:] == ["--forks"]:
        run_forks()
    else:
        main()
