"""A throwaway hotline for browser tests and screenshots: `hotline` commands in a folder of its
own (SQLite, in-process jobs) and `hotline run` on a free port, as a newcomer would start it."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HOTLINE = [sys.executable, "-c", "from hotline.cli import main; main()"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


class LocalHotline:
    def __init__(self, folder: Path | str, secret: str = "local-test"):
        self.folder = Path(folder)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        self.env.update(HOTLINE_DATABASE_URL=f"sqlite:///{self.folder}/hotline.db", HOTLINE_SECRET_KEY=secret)
        self.process: subprocess.Popen | None = None
        self.base = ""

    @property
    def database(self) -> Path:
        return self.folder / "hotline.db"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([*HOTLINE, *args], env=self.env, cwd=self.folder, input=stdin, capture_output=True,
                                text=True, timeout=300)
        if result.returncode:
            raise RuntimeError(f"hotline {' '.join(args)} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def start(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.process = subprocess.Popen([*HOTLINE, "run", "--port", str(port)], env=self.env, cwd=self.folder,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
