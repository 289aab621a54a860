"""The programs the test kubelet runs in place of the product's images.

Pods run as their ``runAsUser`` (1000 for the hub's user servers), so the interpreter
must be usable by that user. When this environment's Python lives where other users
cannot reach it (a pyenv under a private home directory), a light virtualenv is made
from a system Python of the same version, seeing this environment's packages through a
``.pth`` file: the stand-in for the image's own Python.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path


def _others_can_run(path: Path) -> bool:
    """True when a user other than the owner and not in its group can execute ``path``."""
    real = path.resolve()
    for directory in reversed(real.parents):
        if not directory.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(real.stat().st_mode & stat.S_IXOTH)


def _interpreter_for_other_users(directory: Path) -> str:
    if os.geteuid() != 0 or _others_can_run(Path(sys.executable)):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if Path(candidate).exists() and _others_can_run(Path(candidate)):
            break
    else:
        raise RuntimeError(
            f"no {version} that other users can run: pods run as their runAsUser and cannot "
            f"use {sys.executable}"
        )
    venv = directory / "image-python"
    if not (venv / "bin" / "python").exists():
        subprocess.run([candidate, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = Path(
            subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-c",
                    "import sysconfig; print(sysconfig.get_path('purelib'))",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        ours = sysconfig.get_path("purelib")
        (site / "test-environment.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return str(venv / "bin" / "python")


#: Answers the probes of a container the test kubelet cannot run (``stand_ins``):
#: ``probe-responder POD_IP http:PORT:PATH|tcp:PORT ...``. 200 on a probe path, 404 on
#: anything else; nothing more.
PROBE_RESPONDER = """
import http.server, signal, sys, threading

ip, specs = sys.argv[1], sys.argv[2:]
paths = {}
for spec in specs:
    kind, _, rest = spec.partition(":")
    port, _, path = rest.partition(":")
    paths.setdefault(int(port), set()).add(path or None)

def handler(port):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            known = self.path.split("?")[0] in paths[port] or None in paths[port]
            self.send_response(200 if known else 404)
            self.end_headers()

        def log_message(self, *args):
            pass
    return Handler

for port in paths:
    server = http.server.ThreadingHTTPServer((ip, port), handler(port))
    threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"probe responder on {ip}: {specs}", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Event().wait()
"""

#: ``registry.k8s.io/pause``: sleeps until it is stopped.
PAUSE = """
import signal, sys, threading
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
threading.Event().wait()
"""


def pod_programs(directory: Path) -> dict[str, str]:
    """Program name in a container command -> local executable usable by any pod user."""
    directory.mkdir(parents=True, exist_ok=True)
    python = _interpreter_for_other_users(directory)
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    singleuser = bin_dir / "jupyterhub-singleuser"
    singleuser.write_text(
        f"#!{python}\nimport sys\nfrom jupyterhub.singleuser import main\nsys.exit(main())\n"
    )
    singleuser.chmod(0o755)
    extra = {}
    for name, source in (("probe-responder", PROBE_RESPONDER), ("pause", PAUSE)):
        script = bin_dir / name
        script.write_text(f"#!{python}\n{source.lstrip()}")
        script.chmod(0o755)
        extra[name] = str(script)
    for path in (directory, bin_dir):
        path.chmod(0o755)
    if shutil.which("python3") is None:  # pragma: no cover - every supported machine has one
        raise RuntimeError("python3 not found")
    programs = {
        "jupyterhub-singleuser": str(singleuser),
        "python3": python,
        "python": python,
        # The shell of the images (the image pullers' init containers: `echo`).
        "/bin/sh": "/bin/sh",
        **extra,
    }
    # Tools every notebook image has, used by init containers the product renders.
    for tool in ("mkdir",):
        found = shutil.which(tool)
        if found is None:  # pragma: no cover - coreutils is everywhere
            raise RuntimeError(f"{tool} not found")
        programs[tool] = found
    return programs
