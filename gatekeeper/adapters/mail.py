"""Sending the portal's e-mails: by SMTP when GATEKEEPER_SMTP_URL is set, otherwise as `.eml`
files in `<home>/outbox/` (0600) for the school's own messaging system.

smtp://host:port (plain, STARTTLS when the server offers it), smtps://host:port (TLS from the
start); user:password@ in the URL signs in. One connection carries a whole batch.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import uuid
from collections.abc import Iterable
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from gatekeeper.adapters.filemodes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE
from gatekeeper.errors import InvalidInput


class MailError(RuntimeError):
    """The SMTP server could not be reached or refused the batch (nothing is marked sent)."""


class Mailer(Protocol):
    via: str

    def deliver(self, messages: Iterable[EmailMessage]) -> int: ...


def message(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message with the headers every mail system expects."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or "localhost")
    msg.set_content(body)
    return msg


class SmtpMailer:
    via = "smtp"

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput("GATEKEEPER_SMTP_URL must look like smtp://host:25 or "
                               "smtps://user:password@host:465")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout_s = timeout_s

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                    context=ssl.create_default_context())
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        conn.ehlo()
        if conn.has_extn("starttls"):
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        return conn

    def deliver(self, messages: Iterable[EmailMessage]) -> int:
        batch = list(messages)
        if not batch:
            return 0
        try:
            with self._connect() as conn:
                if self.user:
                    conn.login(self.user, self.password or "")
                for msg in batch:
                    conn.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the mail server {self.host}:{self.port} did not take the "
                            f"messages ({type(exc).__name__}); nothing was sent") from None
        return len(batch)


class OutboxMailer:
    via = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, messages: Iterable[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            self.folder.chmod(PRIVATE_DIR_MODE)
        count = 0
        for msg in messages:
            path = self.folder / f"{uuid.uuid4().hex}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as fh:
                fh.write(msg.as_bytes())
            count += 1
        return count


def outbox_folder(home: Path) -> Path:
    """Where messages wait for the school's own messaging system without SMTP."""
    return home / "outbox"


def mailer_for(smtp_url: str | None, home: Path) -> Mailer:
    return SmtpMailer(smtp_url) if smtp_url else OutboxMailer(outbox_folder(home))


def drop_undelivered(folder: Path, addresses: set[str]) -> int:
    """Delete the messages in the outbox `folder` addressed to any of `addresses` (compared
    without case): mail not yet handed on to someone whose record is deleted names them or
    their child. Reads each message's headers only; other files are left alone."""
    wanted = {a.strip().lower() for a in addresses if a}
    if not wanted or not folder.is_dir():
        return 0
    dropped = 0
    for path in folder.glob("*.eml"):
        try:
            with path.open("rb") as fh:
                headers = BytesHeaderParser(policy=default).parse(fh)
        except OSError:
            continue  # taken by the school's system meanwhile
        to = {addr.lower() for _, addr in getaddresses(headers.get_all("To", []))}
        if to & wanted:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                dropped += 1
    return dropped
