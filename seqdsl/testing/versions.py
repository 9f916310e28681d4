"""Diff support, load stage: a workspace version from a folder or a git revision.

A version given as an existing folder is used where it is. Anything else is a
git revision of the repository that holds the workspace: the workspace's folder
at that revision is read with `git archive` into a temporary folder, so neither
the working tree nor the index is ever touched.
"""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

__all__ = ["VersionError", "checkout"]

log = logging.getLogger("seqdsl.testing.versions")

_CONFIG = "seqdsl.toml"


class VersionError(Exception):
    """A version that cannot be read: not a folder, not a revision, no workspace."""


@contextlib.contextmanager
def checkout(spec: str, workspace: Path) -> Iterator[Path]:
    """The workspace folder of version `spec`, for as long as the context lasts.

    `workspace` is the workspace's folder in the working tree; it locates the
    repository and the workspace's path inside it when `spec` is a revision.
    """
    folder = Path(spec)
    if folder.is_dir():
        if not (folder / _CONFIG).is_file():
            raise VersionError(f"`{spec}` is a folder without `{_CONFIG}`")
        yield folder.resolve()
        return

    top = Path(_git(["rev-parse", "--show-toplevel"], workspace, spec).decode().strip())
    commit = _commit(spec, top)
    inside = workspace.resolve().relative_to(top.resolve()).as_posix()
    archive = _git(["archive", "--format=tar", commit, "--", inside], top, spec)
    with tempfile.TemporaryDirectory(prefix="seqdsl-version-") as temporary:
        target = Path(temporary)
        _extract(archive, target)
        root = target / inside
        if not (root / _CONFIG).is_file():
            raise VersionError(
                f"`{inside}` has no `{_CONFIG}` at revision `{spec}`; run the diff "
                "in the workspace folder or name it with --workspace"
            )
        log.debug("version %s: %s at %s", spec, inside, commit[:12])
        yield root


def _commit(spec: str, top: Path) -> str:
    try:
        found = _git(
            ["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
            top,
            spec,
        )
    except VersionError:
        raise VersionError(
            f"`{spec}` is neither a workspace folder nor a git revision of `{top}`"
        ) from None
    return found.decode().strip()


def _git(arguments: Sequence[str], folder: Path, spec: str) -> bytes:
    """Run git in `folder`; a failure names the version it was for."""
    try:
        done = subprocess.run(
            ["git", *arguments],
            cwd=folder,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise VersionError(
            f"`{spec}` is not a folder, and git is not installed"
        ) from None
    except NotADirectoryError:
        raise VersionError(f"`{folder}` is not a folder") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"git exited with {done.returncode}"
        raise VersionError(f"`{spec}`: {detail}")
    return done.stdout


def _extract(archive: bytes, target: Path) -> None:
    """Unpack regular files and folders only, each strictly inside `target`."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = []
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts:
                raise VersionError(f"refusing the archive entry `{member.name}`")
            if member.isfile() or member.isdir():
                members.append(member)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, members=members, filter="data")
        else:  # pragma: no cover - Python before 3.11.4
            tar.extractall(target, members=members)  # members checked above
