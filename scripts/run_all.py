"""Start the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PY = sys.executable


def main() -> int:
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    pidfile = os.path.join("var", "celerybeat.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)  # a stale pid file from a killed run would stop beat from starting
    commands = {
        "web": [PY, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        "worker": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "info",
            "--concurrency",
            "2",
            "-n",
            "worker@%h",
        ],
        "beat": [PY, "-m", "celery", "-A", "config", "beat", "-l", "info", "--pidfile", pidfile],
    }
    procs = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()}
    base = f"http://{host}:{port}"
    print(
        f"\nMemberhub is starting:\n  member centre  {base}/\n  admin          {base}/admin/\n"
        f"  API docs       {base}/api/v1/docs/\n  health         {base}/api/v1/health\n"
        "Press Ctrl-C to stop web, worker and beat.\n",
        flush=True,
    )

    def stop(*_args) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 15
        for proc in procs.values():
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the others.", flush=True)
                    stop()
                    return proc.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
