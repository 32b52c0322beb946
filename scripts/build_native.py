"""Compile the validators' hot modules with mypyc into build/native (see validators/native.py).

Usage: python scripts/build_native.py [--out DIR]

Builds into a fresh directory beside the target and swaps it in whole, manifest last, so an
interrupted or failed build never leaves a half-built one in use. Without mypyc or a C
compiler it says so and exits 0: the validators then run from source.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from validators import native  # noqa: E402  (after the path is set)

# setuptools + mypycify in a child process: mypyc names modules after their paths from the
# working directory, and a failed compile must not take this process down with it.
_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
out = sys.argv[1]
paths = ["--ignore-missing-imports", "--follow-imports=silent", *sys.argv[2:]]
setup(
    name="faithgate-native",
    ext_modules=mypycify(paths, opt_level="3", group_name={group!r}),
    script_args=["build_ext", "--build-lib", out, "--build-temp", out + "/.obj"],
)
"""


def build(out: Path) -> bool:
    """Compile native.COMPILED into out; False (and out untouched) when it cannot be done."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        print("build_native: mypyc is not installed; the validators run from source")
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".native-", dir=out.parent))
    try:
        fingerprint = native.fingerprint()  # of the sources as compiled
        cmd = [sys.executable, "-c", _SETUP.format(group=native.GROUP), str(work)]
        done = subprocess.run([*cmd, *native.COMPILED], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-4000:] + done.stderr[-4000:], file=sys.stderr)
            print("build_native: compiling failed; the validators run from source")
            return False
        shutil.rmtree(work / ".obj", ignore_errors=True)
        (work / native.MANIFEST).write_text(json.dumps(fingerprint, indent=1))
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return True
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    """Build, or leave the source in charge when no compiler is at hand."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=native.OUT)
    args = parser.parse_args()
    if build(args.out):
        print(f"build_native: {len(native.COMPILED)} modules compiled into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
