"""The instance config file: ``instance/connector.env`` in the directory commands run in.

A first ``connector serve`` in a directory without one writes it (mode 0600, git-ignored)
with freshly generated secrets, so the token printed by ``connector token`` in another
shell is signed with the secret the server checks, and the admin console is on from the
start. Every ``connector`` command reads it; a variable set in the environment wins over
the file. ``CONNECTOR_INSTANCE_DIR`` points elsewhere than ``./instance``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

FILE_NAME = "connector.env"

_HEADER = """\
# Settings of this connector instance, written by the first `connector serve` here.
# Every `connector` command run in this directory reads them; environment variables win.
# Keep this file private: it holds the secrets tokens and stored credentials depend on.
"""


def instance_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CONNECTOR_INSTANCE_DIR") or "instance")


def instance_file(env: Mapping[str, str] | None = None) -> Path:
    return instance_dir(env) / FILE_NAME


def read_instance_file(path: Path) -> dict[str, str]:
    """The file's ``NAME=value`` settings (blank values left out); {} if there is none."""
    if not path.is_file():
        return {}
    return {name: value for name, value in dotenv_values(path).items() if value}


def generated_settings() -> dict[str, str]:
    """New secrets: 48 random bytes for the JWT secret (HS256 wants at least 32), 32 for
    the key that encrypts stored CRM credentials and signs console cookies."""
    return {
        "CONNECTOR_JWT_SECRET": secrets.token_urlsafe(48),
        "CONNECTOR_SECRET_KEY": secrets.token_urlsafe(32),
    }


def create_instance_file(path: Path, settings: Mapping[str, str] | None = None) -> bool:
    """Write a new instance file (0600) unless one exists; returns whether it did.

    The directory also gets a ``.gitignore`` of ``*``, so the secrets stay out of a
    repository even when the instance directory sits inside one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    body = _HEADER + "".join(f"{name}={value}\n"
                             for name, value in (settings or generated_settings()).items())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(body)
    return True


def environ_with_instance(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment over the instance file's settings: a variable set (non-empty) in
    the environment wins, the file fills in the rest."""
    environ = os.environ if environ is None else environ
    merged = read_instance_file(instance_file(environ))
    merged.update((name, value) for name, value in environ.items()
                  if value or name not in merged)
    return merged
