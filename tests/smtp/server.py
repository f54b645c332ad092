#!/usr/bin/env python3
"""A real SMTP server for the notify tests (fabrique_testkit::smtp).

The notifier talks to a mail relay; its tests need a real one, not a mock that
agrees with whatever the client sends. This is aiosmtpd on 127.0.0.1:

    server.py PORT MAILBOX [--user USER --password PASSWORD]

Each message received is appended to MAILBOX as one JSON line: the envelope,
the raw text, and what Python's `email` package makes of it (decoded headers,
text/plain and text/html bodies), so the Rust side needs no MIME parser. With
--user, AUTH PLAIN/LOGIN is required over plain text (loopback, no TLS).
Prints "ready" once it listens; exits 0 on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import errno
import json
import signal

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parsed(content: bytes) -> dict:
    # Tests compare bodies with the text they sent, written with "\n".
    message = email.message_from_bytes(
        content.replace(b"\r\n", b"\n"), policy=email.policy.default
    )

    def body(kind: str) -> str | None:
        part = message.get_body(preferencelist=(kind,))
        if part is None:
            return None
        return part.get_content().replace("\r\n", "\n")

    return {
        "headers": [[name, str(value)] for name, value in message.items()],
        "text": body("plain"),
        "html": body("html"),
    }


class Mailbox:
    def __init__(self, path: str) -> None:
        self.file = open(path, "a", encoding="utf-8")

    async def handle_DATA(self, server, session, envelope) -> str:
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", errors="replace"),
        }
        try:
            record.update(parsed(envelope.content))
        except Exception as error:  # keep the raw message even if it is malformed
            record["parse_error"] = repr(error)
        # One write per line, so that a reader never sees half a message.
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        return "250 OK"


def authenticator(user: str, password: str):
    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            user.encode(),
            password.encode(),
        )
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False)

    return check


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    handler = Mailbox(args.mailbox)
    options = {}
    if args.user is not None:
        options = {
            "authenticator": authenticator(args.user, args.password),
            "auth_required": True,
            "auth_require_tls": False,
        }
    # A restart reuses the port of a server just killed: allow a few seconds for
    # the kernel to let it go.
    for attempt in range(50):
        try:
            server = await loop.create_server(
                lambda: SMTP(handler, **options),
                host="127.0.0.1",
                port=args.port,
                reuse_address=True,
            )
            break
        except OSError as error:
            if error.errno != errno.EADDRINUSE or attempt == 49:
                raise
            await asyncio.sleep(0.1)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    handler.file.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("mailbox")
    parser.add_argument("--user")
    parser.add_argument("--password", default="")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
