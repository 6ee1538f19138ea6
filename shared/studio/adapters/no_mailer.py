"""The mailer for deployments without a mail provider: it sends nothing and says so in the log
(the kind and the recipient's domain only; never the token). In production Firebase sends the
verification and reset mail, and invitees see their invitations in the app. A transactional
mail provider would be one more adapter behind the same port."""
from __future__ import annotations

from studio.kernel import logs
from studio.ports.mailer import Mail

_log = logs.get("studio.mail")


class NoMailer:
    def send(self, mail: Mail) -> None:
        _log.info("mail not sent: no mailer configured",
                  extra={"fields": {"kind": mail.kind, "to_domain": mail.to.rsplit("@", 1)[-1]}})
