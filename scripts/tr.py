"""Add Simplified Chinese translations to the catalog and recompile it, safely from several shells
at once: `python scripts/tr.py "English id" "中文" ["id 2" "中文 2" ...]`. An id already translated is
left alone (pass --force to replace it). `make translations` later re-sorts the catalog."""
import fcntl
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parents[1] / "hotline" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def main(argv: list[str]) -> None:
    force = "--force" in argv
    pairs = [a for a in argv if a != "--force"]
    if not pairs or len(pairs) % 2:
        sys.exit(__doc__)
    with open(CATALOG / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(CATALOG / "messages.po", "rb") as f:
            catalog = read_po(f)
        for msgid, text in zip(pairs[::2], pairs[1::2], strict=True):
            existing = catalog.get(msgid)
            if existing is not None and existing.string and not force:
                continue
            catalog.add(msgid, text)
        with open(CATALOG / "messages.po", "wb") as f:
            write_po(f, catalog, width=120, sort_output=True, omit_header=False)
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), "--quiet", "compile", "-d",
                        str(CATALOG.parent.parent)], check=True)


if __name__ == "__main__":
    main(sys.argv[1:])
