import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parent.parent


def test_defaults_match_the_design():
    s = load_settings({}, env_file=None)
    assert s.kamo_base_url == "https://kamofamilyload.kamopower.com/api"
    assert s.database_url == "sqlite:///data/kamo_load.db"
    assert s.data_dir == Path("data") and s.backup_dir == Path("data/backups")
    assert s.poll_interval_minutes == 5 and s.tz_name == "America/Chicago"
    assert s.api_key is None  # there is no default key
    assert (s.smtp_port, s.smtp_security, s.alert_after_failures) == (587, "starttls", 3)
    assert (s.kamo_timeout_seconds, s.kamo_max_concurrency) == (10.0, 4)
    assert (s.host, s.port, s.log_level) == ("0.0.0.0", 8080, "INFO")
    assert not s.alerts_enabled
    assert (s.peak_watch_areas, s.peak_watch_hours, s.peak_watch_percent) == ((20,), 3, 97.0)


def test_peak_watch_areas_add_to_kamo_once_each():
    s = load_settings({"PEAK_WATCH_AREAS": " 7, 3,,20,7 "}, env_file=None)
    assert s.peak_watch_areas == (20, 7, 3)


@pytest.mark.parametrize(
    "name, value, needle",
    [
        ("POLL_INTERVAL_MINUTES", "7", "divisor of 60"),
        ("POLL_INTERVAL_MINUTES", "five", "whole number"),
        ("POLL_INTERVAL_MINUTES", "0", "out of range"),
        ("TZ", "Mars/Olympus", "IANA"),
        ("KAMO_BASE_URL", "kamo.example", "URL"),
        ("DATABASE_URL", "mysql://x/y", "URL"),
        ("PORT", "70000", "out of range"),
        ("SMTP_SECURITY", "tls", "starttls"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
        ("KAMO_TIMEOUT_SECONDS", "-1", "out of range"),
        ("KAMO_MAX_CONCURRENCY", "0", "out of range"),
        ("ALERT_AFTER_FAILURES", "x", "whole number"),
        ("PEAK_WATCH_AREAS", "3,seven", "'seven' is not an area id"),
        ("PEAK_WATCH_AREAS", "21", "'21' is not an area id"),
        ("PEAK_WATCH_HOURS", "25", "out of range"),
        ("PEAK_WATCH_PERCENT", "97%", "not a number"),
        ("PEAK_WATCH_PERCENT", "40", "out of range"),
    ],
)
def test_bad_values_name_the_variable(name, value, needle):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value}, env_file=None)
    assert err.value.name == name
    assert str(err.value).startswith(f"{name}: ") and needle in str(err.value)


@pytest.mark.parametrize(
    "interval", ["1", "2", "3", "4", "5", "6", "10", "12", "15", "20", "30", "60"]
)
def test_every_divisor_of_an_hour_is_accepted(interval):
    assert load_settings(
        {"POLL_INTERVAL_MINUTES": interval}, env_file=None
    ).poll_interval_minutes == int(interval)


def test_environment_wins_over_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("POLL_INTERVAL_MINUTES=10\nTZ=UTC\nAPI_KEY=from-file\n")
    s = load_settings({"POLL_INTERVAL_MINUTES": "15"}, env_file=env_file)
    assert s.poll_interval_minutes == 15  # environment
    assert s.tz_name == "UTC" and s.api_key == "from-file"  # .env fills the rest


def test_empty_api_key_means_unset():
    assert load_settings({"API_KEY": "  "}, env_file=None).api_key is None


@pytest.mark.parametrize("command", [[], ["once"], ["healthcheck"]])
def test_processes_stop_with_one_line_and_status_2(tmp_path, command):
    env = {"PATH": "/usr/bin:/bin", "POLL_INTERVAL_MINUTES": "7", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "collector", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "POLL_INTERVAL_MINUTES" in lines[0] and "divisor of 60" in lines[0]
    assert not (tmp_path / "data").exists()  # nothing was created before the check


def test_dotenv_in_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("TZ=Nowhere/Land\n")
    done = subprocess.run(
        [sys.executable, "-m", "collector", "healthcheck"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "TZ" in done.stderr


def test_the_database_url_error_names_only_what_users_write():
    with pytest.raises(ConfigError) as err:
        load_settings({"DATABASE_URL": "mysql://x/y"}, env_file=None)
    message = str(err.value)
    assert "sqlite:///" in message and "postgresql://" in message
    assert "ext" not in message  # peewee's internal postgresext, postgresqlext


def test_database_follows_data_dir_unless_named():
    assert load_settings({"DATA_DIR": "/srv/kamo"}, env_file=None).database_url == (
        "sqlite:////srv/kamo/kamo_load.db"
    )
    env = {"DATA_DIR": "/srv/kamo", "DATABASE_URL": "sqlite:///x.db"}
    named = load_settings(env, env_file=None)
    assert named.database_url == "sqlite:///x.db"


def _collector(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m collector ARGS` with only `env` set; KAMO is a closed port on loopback."""
    base = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "KAMO_BASE_URL": "http://127.0.0.1:9/api",
        "KAMO_TIMEOUT_SECONDS": "0.5",
    }
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        env=base | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", [[], ["once"]])
def test_a_database_directory_that_does_not_exist_is_a_configuration_error(tmp_path, command):
    typo = tmp_path / "nonexistent" / "dir"
    done = _collector(
        tmp_path, *command, DATA_DIR=str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{typo}/x.db"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and f"{typo} does not exist" in lines[0]
    assert not (tmp_path / "nonexistent").exists()  # no directory and no database made up


def test_a_missing_data_dir_is_created_and_a_new_database_is_logged(tmp_path):
    data_dir = tmp_path / "deep" / "data"  # DATA_DIR is the database's directory by default
    first = _collector(tmp_path, "once", DATA_DIR=str(data_dir))
    assert first.returncode == 1, first.stderr  # KAMO is down, but the database was made
    created = [line for line in first.stdout.splitlines() if "created a new database" in line]
    assert len(created) == 1 and created[0].endswith(f" at {data_dir / 'kamo_load.db'}")
    assert (data_dir / "kamo_load.db").is_file()
    again = _collector(tmp_path, "once", DATA_DIR=str(data_dir))
    assert again.returncode == 1 and "created a new database" not in again.stdout


def test_collector_help_says_where_settings_come_from(tmp_path):
    done = _collector(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # argparse wraps the epilog
    assert "environment variables" in text and ".env file" in text and ".env.example" in text
