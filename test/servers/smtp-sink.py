"""An SMTP sink for twinvault's e-mail notification tests, run by test/servers/smtp-sink.ts.

Accepts mail only after STARTTLS and AUTH (PLAIN or LOGIN) with the one account given in
SMTP_SINK_USERNAME / SMTP_SINK_PASSWORD, and writes message n as <n>.json (the envelope) and
then <n>.eml (the message as received), each under a temp name first and renamed into place,
so a reader that sees <n>.eml never sees half a file and always finds its envelope.
"""

import argparse
import hmac
import json
import logging
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def write_atomically(path, data):
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.tmp")
    with open(temp, "wb") as file:
        file.write(data)
    os.replace(temp, path)


class Sink:
    def __init__(self, mail_dir):
        self.mail_dir = mail_dir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        # Handlers run one at a time on the controller's event loop, so the count needs no lock.
        self.count += 1
        base = os.path.join(self.mail_dir, str(self.count))
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        write_atomically(base + ".json", json.dumps(meta).encode())
        write_atomically(base + ".eml", envelope.original_content)
        return "250 2.0.0 Message accepted"


def authenticator_for(username, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            mechanism in ("PLAIN", "LOGIN")
            and isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, username.encode())
            and hmac.compare_digest(auth_data.password, password.encode())
        )
        # handled=False: AuthResult defaults to handled=True, which means "I already replied",
        # and the client would then wait for a 535 that never comes.
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)

    return authenticate


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="PEM certificate offered after STARTTLS")
    parser.add_argument("--key", required=True, help="PEM private key of --cert")
    parser.add_argument("--mail-dir", required=True, help="folder the messages are written to")
    args = parser.parse_args()
    username = os.environ["SMTP_SINK_USERNAME"]
    password = os.environ["SMTP_SINK_PASSWORD"]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_context.load_cert_chain(args.cert, args.key)
    controller = Controller(
        Sink(args.mail_dir),
        hostname="127.0.0.1",
        port=args.port,
        # Without it aiosmtpd greets with socket.getfqdn(), a DNS lookup that can take seconds.
        server_hostname="localhost",
        tls_context=tls_context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator_for(username, password),
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    controller.start()
    print(f"SMTP sink listening on 127.0.0.1:{args.port}", flush=True)
    stopping.wait()
    controller.stop()


if __name__ == "__main__":
    main()
