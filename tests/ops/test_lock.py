"""requirements.lock (what the images install, hash-checked) agrees with pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .helpers import REPO

LOCK = REPO / "requirements.lock"
# The images' Python (Debian trixie's python3), for the markers of the dependency tree.
IMAGE_PYTHON = "3.13"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def project_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    return [Requirement(line) for line in pyproject["project"]["dependencies"]]


def lock_entries(text: str) -> dict[str, tuple[Version, list[str]]]:
    """Each pinned package of a pip-compile lock: name -> (version, its sha256 hashes)."""
    entries: dict[str, tuple[Version, list[str]]] = {}
    current = None
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            assert current not in entries, f"{current} is pinned twice"
            entries[current] = (Version(match[2]), [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line.strip() and not line.lstrip().startswith("#"):
            current = None
            assert line.startswith(" "), f"unexpected line in the lock: {line!r}"
    return entries


def image_environment() -> dict[str, str]:
    env = dict(default_environment())
    env.update(python_version=IMAGE_PYTHON, python_full_version=f"{IMAGE_PYTHON}.0")
    env.update(sys_platform="linux", platform_system="Linux", os_name="posix", extra="")
    return env


def needed_by(requirement: Requirement) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(image_environment())


def dependencies_of(name: str) -> set[str]:
    """What an installed distribution requires on the image's Python (this venv installs the
    same runtime tree from pyproject.toml; `make lock` refreshes both)."""
    return {
        canonicalize_name(r.name)
        for r in map(Requirement, metadata.requires(name) or [])
        if needed_by(r)
    }


def disagreements(requirements: list[Requirement], entries: dict) -> list[str]:
    problems = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name not in entries:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(entries[name][0], prereleases=True):
            problems.append(f"{requirement} is not met by the pinned {name}=={entries[name][0]}")
    wanted: set[str] = set()
    todo = [canonicalize_name(r.name) for r in requirements if needed_by(r)]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        wanted.add(name)
        if name in entries:
            todo.extend(dependencies_of(name))
    problems += [f"{name} is pinned but nothing requires it" for name in entries.keys() - wanted]
    problems += [f"{name} is required but not pinned" for name in wanted - entries.keys()]
    problems += [f"{name} has no sha256 hash" for name, (_, sums) in entries.items() if not sums]
    return problems


def test_the_lock_pins_exactly_what_pyproject_requires():
    entries = lock_entries(LOCK.read_text())
    problems = disagreements(project_requirements(), entries)
    assert not problems, "requirements.lock is out of date (run `make lock`):\n" + "\n".join(
        problems
    )


def test_a_disagreeing_lock_is_caught():
    """The comparison fails for each way the two files drift apart."""
    text = LOCK.read_text()
    entries = lock_entries(text)
    requirements = project_requirements()
    assert not disagreements(requirements, entries)
    # A new runtime dependency in pyproject.toml, not yet locked.
    assert disagreements([*requirements, Requirement("tzlocal>=5")], entries) == [
        "tzlocal>=5 is not pinned",
        "tzlocal is required but not pinned",
    ]
    # A requirement tightened beyond the pin.
    first = canonicalize_name(requirements[0].name)
    pinned = entries[first][0]
    tightened = [Requirement(f"{first}>{pinned}"), *requirements[1:]]
    assert disagreements(tightened, entries) == [
        f"{first}>{pinned} is not met by the pinned {first}=={pinned}"
    ]
    # A dependency dropped from pyproject.toml but left in the lock: one nothing else needs.
    leaf = next(
        name
        for name in map(canonicalize_name, (r.name for r in requirements))
        if not dependencies_of(name) and not any(name in dependencies_of(o) for o in entries)
    )
    without = [r for r in requirements if canonicalize_name(r.name) != leaf]
    assert disagreements(without, entries) == [f"{leaf} is pinned but nothing requires it"]
    # A pin without hashes could not be installed with --require-hashes.
    unhashed = dict(entries, **{first: (pinned, [])})
    assert disagreements(requirements, unhashed) == [f"{first} has no sha256 hash"]
