"""Real services for the tests: a throwaway PostgreSQL cluster on loopback and headless Chromium.

When a service is not installed its tests skip, unless FASTSEG_REQUIRE_SERVICES=1 (set by .ci/run),
which turns the skip into a failure so that CI cannot pass without them.
"""

import glob
import os
import shutil
import socket
import struct
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def services_required():
    return os.environ.get("FASTSEG_REQUIRE_SERVICES") == "1"


def unavailable(what):
    """Skip, or fail when the services are required."""
    if services_required():
        pytest.fail(f"{what}, and FASTSEG_REQUIRE_SERVICES=1 requires it")
    pytest.skip(what)


# -- PostgreSQL -----------------------------------------------------------------------------------
def postgres_bindir():
    """The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(initdb)).parent
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    candidates.sort(
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb in a temporary folder, pg_ctl start on a free loopback port, pg_ctl stop.

    PostgreSQL refuses to run as root: as root the cluster belongs to, and runs as, the
    ``postgres`` user (``runuser``, or ``su`` where runuser is missing).
    """

    def __init__(self, bindir):
        self.bindir = Path(bindir)
        self.root = Path(tempfile.mkdtemp(prefix="fastseg-pg-"))
        self.data = self.root / "data"
        self.port = None

    def _run(self, *argv, timeout=120):
        argv = [str(a) for a in argv]
        if os.geteuid() == 0:
            if shutil.which("runuser"):
                argv = ["runuser", "-u", "postgres", "--", *argv]
            else:
                argv = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(map(_quote, argv))]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}\n{tail}")
        return done

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            self.bindir / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        self.port = free_port()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            self.bindir / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def url(self, user="postgres", database="postgres"):
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def stop(self):
        try:
            if self.port is not None:
                self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


# -- Chromium -------------------------------------------------------------------------------------
def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def run_chromium(exe, page, *flags, timeout=120):
    """Open ``page`` (a file path) in headless Chromium with a fresh profile; returns stdout."""
    with tempfile.TemporaryDirectory(prefix="fastseg-chromium-") as profile:
        argv = [exe, *BROWSER_FLAGS, f"--user-data-dir={profile}", *flags, Path(page).resolve().as_uri()]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def png_size(path):
    """(width, height) from a PNG file's header; fails on anything that is not a PNG."""
    data = Path(path).read_bytes()
    assert data.startswith(PNG_MAGIC), "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


class _ReportDom(HTMLParser):
    """From a dumped DOM: rows of the profile table's body, and <body>'s data attributes."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.profile_rows = 0
        self.images = 0
        self._in_profile = self._in_body_rows = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "table" and attrs.get("id") == "profile":
            self._in_profile = True
        elif tag == "tbody" and self._in_profile:
            self._in_body_rows = True
        elif tag == "tr" and self._in_body_rows:
            self.profile_rows += 1
        elif tag == "img":
            self.images += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body_rows = False
        elif tag == "table":
            self._in_profile = False


def assert_report_renders(exe, report, n_segments, tmp_path):
    """Open ``report`` in headless Chromium: the DOM holds the profile table with one row per
    segment and every figure decoded; a screenshot has the window's size and is not blank."""
    import matplotlib.image

    dom = _ReportDom()
    dom.feed(run_chromium(exe, report, "--dump-dom", "--virtual-time-budget=5000"))
    assert dom.profile_rows == n_segments
    assert dom.images >= 3
    assert dom.body.get("data-images-loaded") == f"{dom.images}/{dom.images}"
    shot = Path(tmp_path) / "report.png"
    run_chromium(exe, report, f"--screenshot={shot}", "--window-size=1280,1800", "--hide-scrollbars")
    assert png_size(shot) == (1280, 1800)
    pixels = matplotlib.image.imread(shot)[..., :3]
    ink = (pixels < 0.9).any(axis=-1).mean()  # share of pixels that are not white-ish
    assert 0.02 < ink < 0.9
    assert len({tuple(p) for p in pixels[::7, ::7].reshape(-1, 3).round(2).tolist()}) > 50
