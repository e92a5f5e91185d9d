"""Settings and the `linli` command, run for real in subprocesses with a clean environment.

The command speaks the installation's language (Chinese by default), so these
tests look for what any translation keeps: host names, option names, numbers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from linli.config.settings import DEMO_DATA_KEY, DEMO_SECRET_KEY
from linli.core.crypto import generate_key_entry

REPO = Path(__file__).resolve().parent.parent
LINLI = str(Path(sys.executable).with_name("linli"))
SECRET = "a-real-secret-key-for-tests-0123456789abcdef-0123456789"
PRODUCTION_ERROR = "LINLI_ALLOWED_HOSTS names a non-loopback host"


def _env(tmp: Path, **linli) -> dict:
    """The current environment without any LINLI_* variable, plus the given ones (None: unset).

    An e-mail host is set unless a test unsets it (LINLI_EMAIL_HOST=None): without one every
    command starts with the warning linli.W001, which the e-mail tests below check, and the
    others would have to read past."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_") and k != "DJANGO_SETTINGS_MODULE"}
    env["LINLI_DATA_DIR"] = str(tmp)
    linli = {"LINLI_EMAIL_HOST": "smtp.invalid", **linli}
    env.update({k: v for k, v in linli.items() if v is not None})
    return env


def _run(args, env, timeout=60):
    return subprocess.run([LINLI, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A fresh SQLite data directory, migrated once for this module."""
    path = tmp_path_factory.mktemp("linli-data")
    result = _run(["migrate", "--no-input", "-v", "0"], _env(path), timeout=120)
    assert result.returncode == 0, result.stderr
    return path


# Production mode ----------------------------------------------------------------

@pytest.mark.parametrize("secrets", [
    {},
    {"LINLI_SECRET_KEY": SECRET},
    {"LINLI_DATA_KEY": "placeholder"},
    {"LINLI_SECRET_KEY": DEMO_SECRET_KEY, "LINLI_DATA_KEY": "placeholder"},
    {"LINLI_SECRET_KEY": SECRET, "LINLI_DATA_KEY": DEMO_DATA_KEY},
], ids=["no secrets", "no data key", "no secret key", "demo secret key", "demo data key"])
def test_production_mode_refuses_to_start_without_both_secrets(tmp_path, secrets):
    if secrets.get("LINLI_DATA_KEY") == "placeholder":
        secrets = {**secrets, "LINLI_DATA_KEY": generate_key_entry("prod")}
    env = _env(tmp_path, LINLI_ALLOWED_HOSTS="linli.example.org", **secrets)
    result = _run(["check"], env)
    assert result.returncode != 0
    assert PRODUCTION_ERROR in result.stderr
    assert "rotate-data-key --generate" in result.stderr
    # Importing the settings fails the same way, whatever starts the process.
    result = subprocess.run([sys.executable, "-c", "import linli.config.settings"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and PRODUCTION_ERROR in result.stderr


@pytest.mark.parametrize("hosts", ["linli.example.org", "127.0.0.1,linli.example.org", "*", "10.0.0.5"])
def test_production_mode_starts_with_both_secrets(tmp_path, hosts):
    env = _env(tmp_path, LINLI_ALLOWED_HOSTS=hosts, LINLI_SECRET_KEY=SECRET,
               LINLI_DATA_KEY=generate_key_entry("prod"))
    result = _run(["check"], env)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    code = "from django.conf import settings as s; print(s.PRODUCTION, s.USING_DEMO_SECRETS, s.SESSION_COOKIE_SECURE)"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],
                            env={**env, "DJANGO_SETTINGS_MODULE": "linli.config.settings"}, cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "False", "True"], result.stderr


def test_production_mode_refuses_debug(tmp_path):
    env = _env(tmp_path, LINLI_ALLOWED_HOSTS="linli.example.org", LINLI_SECRET_KEY=SECRET,
               LINLI_DATA_KEY=generate_key_entry("prod"), LINLI_DEBUG="true")
    result = _run(["check"], env)
    assert result.returncode != 0 and "LINLI_DEBUG must be off" in result.stderr


@pytest.mark.parametrize("hosts", [None, "", "127.0.0.1,localhost", "[::1]"])
def test_loopback_only_runs_with_the_demo_secrets(tmp_path, hosts):
    result = _run(["check"], _env(tmp_path, LINLI_ALLOWED_HOSTS=hosts))
    assert result.returncode == 0, result.stderr


# E-mail ---------------------------------------------------------------------------

@pytest.mark.parametrize("hosts", [None, "linli.example.org"], ids=["demo", "production"])
def test_without_an_email_host_the_check_warns_once_and_nothing_pretends_to_send(tmp_path, hosts):
    secrets = {} if hosts is None else {"LINLI_SECRET_KEY": SECRET, "LINLI_DATA_KEY": generate_key_entry("prod")}
    env = _env(tmp_path, LINLI_ALLOWED_HOSTS=hosts, LINLI_EMAIL_HOST=None, **secrets)
    result = _run(["check"], env)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert output.count("linli.W001") == 1 and "LINLI_EMAIL_HOST" in output
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    shown = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],
                           env={**env, "DJANGO_SETTINGS_MODULE": "linli.config.settings"}, cwd=REPO,
                           capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip() == "django.core.mail.backends.dummy.EmailBackend", shown.stderr


@pytest.mark.parametrize("email", [{"LINLI_EMAIL_HOST": "smtp.example.org"}, {"LINLI_EMAIL_BACKEND": "console"}],
                         ids=["smtp host", "console chosen"])
def test_an_email_host_or_a_chosen_backend_silences_the_warning(tmp_path, email):
    result = _run(["check"], _env(tmp_path, **{"LINLI_EMAIL_HOST": None, **email}))
    assert result.returncode == 0, result.stderr
    assert "linli.W001" not in result.stdout + result.stderr


def test_a_malformed_boolean_is_named(tmp_path):
    result = _run(["check"], _env(tmp_path, LINLI_DEBUG="maybe"))
    assert result.returncode != 0 and "LINLI_DEBUG must be true or false" in result.stderr


# linli serve ----------------------------------------------------------------------

@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "linli.example.org"])
def test_serve_refuses_a_public_address_with_the_demo_secrets(tmp_path, host):
    result = _run(["serve", "--host", host, "--port", str(_free_port())], _env(tmp_path), timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError:")
    assert f" {host} " in result.stderr and "LINLI_SECRET_KEY" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--port", "0"], "65535"),
    (["--port", "70000"], "65535"),
    (["--workers", "0"], "--workers"),
    (["--threads", "0"], "--threads"),
])
def test_serve_refuses_bad_arguments(tmp_path, args, message):
    result = _run(["serve", *args], _env(tmp_path), timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError:") and message in result.stderr


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _serve_and_get_healthz(env) -> tuple[int, dict, bytes, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [LINLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not answer:\n{proc.communicate()[0]}")
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output = proc.communicate(timeout=25)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group of the server this test started
            output = proc.communicate()[0]
    return status, headers, body, output


def test_serve_answers_healthz_on_loopback(data_dir):
    status, headers, body, output = _serve_and_get_healthz(_env(data_dir))
    assert status == 200, output
    assert json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"].startswith("application/json")
    assert "no-cache" in headers.get("Cache-Control", "")
    assert "http://127.0.0.1:" in output  # "Linli is serving at ...", in the installation's language
    assert '"GET /healthz" 200' in output  # the access log: the path only


def test_healthz_says_503_when_the_database_is_unreachable(tmp_path):
    closed = _free_port()  # nothing listens there
    env = _env(tmp_path, LINLI_DATABASE_URL=f"postgres://linli@127.0.0.1:{closed}/linli")
    status, headers, body, output = _serve_and_get_healthz(env)
    assert status == 503, output
    assert json.loads(body) == {"status": "unavailable"}
    assert "127.0.0.1" not in body.decode()  # no connection details to the caller


# linli rotate-data-key, as an operator runs it -------------------------------------------

def test_rotate_data_key_check_and_rotation_exit_statuses(data_dir):
    env = _env(data_dir)
    result = _run(["rotate-data-key", "--check"], env)
    assert result.returncode == 0, result.stderr
    assert "rows with values not under the active key: 0" in result.stdout

    result = _run(["rotate-data-key", "--batch-size", "100"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("remaining: 0")


def test_rotate_data_key_generate_prints_an_entry_to_prepend(data_dir):
    result = _run(["rotate-data-key", "--generate", "--key-id", "next"], _env(data_dir))
    assert result.returncode == 0, result.stderr
    entry = result.stdout.strip()
    assert entry.startswith("next:") and "\n" not in entry
    assert "LINLI_DATA_KEY=next:" in result.stderr and "remaining: 0" in result.stderr
    # The printed entry works as a key ring, ahead of the current key.
    env = _env(data_dir, LINLI_DATA_KEY=f"{entry},{DEMO_DATA_KEY}")
    result = _run(["rotate-data-key", "--check"], env)
    assert result.returncode == 0, result.stderr
    assert "next, demo" in result.stdout  # the ring's ids, the active one first
    assert "rows with values not under the active key: 0" in result.stdout


@pytest.mark.parametrize("args", [["--check"], []])
def test_rotate_data_key_names_a_malformed_key_ring(data_dir, args):
    result = _run(["rotate-data-key", *args], _env(data_dir, LINLI_DATA_KEY="k1:tooshort"))
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError:")
    assert "LINLI_DATA_KEY" in result.stderr and "32 bytes" in result.stderr
    assert "Traceback" not in result.stderr


def test_rotate_data_key_refuses_bad_arguments(data_dir):
    result = _run(["rotate-data-key", "--batch-size", "0"], _env(data_dir))
    assert result.returncode == 1 and "--batch-size" in result.stderr
    result = _run(["rotate-data-key", "--batch-size", "many"], _env(data_dir))
    assert result.returncode != 0 and "invalid int value" in result.stderr


def test_migrate_creates_a_missing_data_directory(tmp_path):
    # A fresh clone has no var/: `make demo` must not fail on it.
    data = tmp_path / "not" / "there" / "yet"
    env = _env(tmp_path)
    env["LINLI_DATA_DIR"] = str(data)
    result = _run(["migrate", "--no-input", "-v", "0"], env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (data / "linli.sqlite3").is_file()
