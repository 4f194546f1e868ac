"""`python -m provenant`, hashing passwords with argon2-cffi's CHEAPEST parameters: how tests start servers.

Run as a script: ``python tests/cheap_argon2_serve.py serve --port N [--workers N]``. The one difference
from the real command is the patch the in-process tests have (tests/conftest.py), so a test server is
the real `provenant serve` without a quarter-second of CPU and 64 MiB per sign-in. The product has no
setting for this on purpose: a knob that weakens password hashing would be a footgun in production.

The patch runs at import, not under ``__main__``: with ``--workers N`` uvicorn starts each worker
through multiprocessing's spawn, which runs this file again (as ``__mp_main__``) in the new interpreter
before the worker imports the app, so every worker hashes alike.
"""

import sys
from pathlib import Path

# Running a file puts its directory first on sys.path: tests/ holds packages named auth, db, sessions...
# that must not shadow anything the server imports, as they do not under `python -m provenant`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

from argon2 import PasswordHasher, profiles

from provenant.accounts import passwords
from provenant.cli import main


def hash_cheaply() -> None:
    passwords._password_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    passwords.dummy_password_hash.cache_clear()  # unknown emails are checked against a hash made alike


hash_cheaply()

if __name__ == "__main__":
    main()
