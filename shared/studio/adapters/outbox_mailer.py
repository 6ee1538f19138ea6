"""The local mailer: every mail is a JSON file in ``<data dir>/mail_outbox``, newest last by
name, which the local console lists at ``/console/outbox``. Mails carry one-time tokens, so
the folder is ``0700`` and each file ``0600``, written whole (temp file + ``os.replace``)."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.adapters.private_files import fchmod_private, private_dir, tighten_tree
from studio.kernel.clock import utc_now
from studio.ports.mailer import Mail

KEEP = 500  # the oldest mails beyond this are dropped: a dev outbox, not an archive


class OutboxMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        tighten_tree(directory)  # mails hold codes that sign in: ours alone, whatever an older run left

    def send(self, mail: Mail) -> None:
        private_dir(self.directory)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
        record = {**asdict(mail), "id": name.removesuffix(".json"), "sent_at": utc_now()}
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            fchmod_private(fd)  # mkstemp's 0600 is not promised under every umask
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh)
            os.replace(tmp, self.directory / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._prune()

    def recent(self, limit: int = 100, to: str | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` mails (to ``to`` only, when given), newest first."""
        mails: list[dict[str, Any]] = []
        for path in sorted(self._files(), reverse=True):
            if len(mails) >= limit:
                break
            with contextlib.suppress(FileNotFoundError, ValueError):  # pruned meanwhile, or half-copied by hand
                mail = json.loads(path.read_text())
                if to is None or mail.get("to") == to:
                    mails.append(mail)
        return mails

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [p for p in self.directory.iterdir() if p.suffix == ".json" and not p.name.startswith(".")]

    def _prune(self) -> None:
        with self._lock:
            files = sorted(self._files())
            for path in files[:-KEEP] if len(files) > KEEP else []:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
