"""The Cloud Run entry of the realtime gateway imports and answers its health route, as the
container runs it (library on the path, embedded adapters here)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gateway_entrypoint_serves_health(tmp_path: Path) -> None:
    code = (
        "import sys; sys.path[:0] = ['shared', 'infra/realtime'];"
        "from starlette.testclient import TestClient; import main;"
        "r = TestClient(main.app).get('/healthz/realtime'); print(r.status_code, r.json()['status'])"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=REPO, capture_output=True, text=True,
                         timeout=60, env={"STUDIO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=False)
    assert out.stdout.strip() == "200 ok", out.stderr[-2000:]


def test_dockerfile_copies_what_the_entrypoint_imports() -> None:
    dockerfile = (REPO / "infra" / "realtime" / "Dockerfile").read_text()
    assert "COPY shared/studio/ /app/studio/" in dockerfile and "COPY infra/realtime/main.py /app/main.py" in dockerfile
    for group in ("core", "gcp", "runtime"):
        assert f"/tmp/requirements/{group}.txt" in dockerfile
