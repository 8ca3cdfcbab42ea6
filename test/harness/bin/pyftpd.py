"""pyftpdlib (Debian python3-pyftpdlib) as a foreground server for the ftp-doctor test harness.

    python3 -u pyftpd.py <config.json>

Started by startPyftpdlib() in test/harness/pyftpdlib.ts, which writes the config. Only pyftpdlib's
own documented knobs are used: DummyAuthorizer users and permissions, FTPHandler / TLS_FTPHandler
class attributes, FTPServer max_cons / max_cons_per_ip. Logs (every command and reply) go to stderr.
"""
import json
import logging
import shutil
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")

    authorizer = DummyAuthorizer()
    for u in config["users"]:
        authorizer.add_user(u["user"], u["password"], u["home"], perm=u["perm"])
    if config.get("anonRoot"):
        authorizer.add_anonymous(config["anonRoot"], perm=config.get("anonPerm", "elr"))

    tls = config.get("tls")
    if tls:
        class Handler(TLS_FTPHandler):
            pass
        Handler.certfile = tls["certFile"]
        Handler.keyfile = tls["keyFile"]
        Handler.tls_control_required = tls["controlRequired"]
        Handler.tls_data_required = tls["dataRequired"]
    else:
        class Handler(FTPHandler):
            pass
    Handler.authorizer = authorizer
    Handler.passive_ports = range(config["pasvRange"][0], config["pasvRange"][1] + 1)
    if config.get("masqueradeAddress"):
        Handler.masquerade_address = config["masqueradeAddress"]
    if config.get("authFailedTimeout") is not None:
        Handler.auth_failed_timeout = config["authFailedTimeout"]
    for attr, value in (config.get("handlerAttrs") or {}).items():
        setattr(Handler, attr, value)
    for cmd in config.get("disabledCommands") or []:
        # What an operator does to switch a command off: drop it from the handler's table, so the
        # server answers "500 Command not understood." (pyftpdlib has no passive on/off setting).
        Handler.proto_cmds = {k: v for k, v in Handler.proto_cmds.items() if k != cmd}

    server = FTPServer((config["host"], config["port"]), Handler)
    if config.get("maxCons") is not None:
        server.max_cons = config["maxCons"]
    if config.get("maxConsPerIp") is not None:
        server.max_cons_per_ip = config["maxConsPerIp"]
    # A home deleted while the server runs (DummyAuthorizer checks it only in add_user).
    for gone in config.get("removeAfterStart") or []:
        shutil.rmtree(gone)
    server.serve_forever(handle_exit=True)


if __name__ == "__main__":
    main()
