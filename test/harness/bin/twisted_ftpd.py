"""Twisted's FTP server (twisted.protocols.ftp, Debian python3-twisted) for the ftp-doctor harness.

    python3 -u twisted_ftpd.py <config.json>

Started by startTwistedFtpd() in test/harness/twisted.ts, which writes the config. `twistd ftp`
only takes a password file and a root; this runs the same FTPFactory with what an application
embedding it sets: a Portal with a username/password checker (and AllowAnonymousAccess), a realm
giving each user its home, and the factory's passivePortRange, connectionLimit, allowAnonymous.
Once listening it drops to the configured uid/gid (Twisted's shell then writes as that user).
"""
import json
import os
import sys

from twisted.cred.checkers import AllowAnonymousAccess, InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import Portal
from twisted.internet import reactor
from twisted.protocols.ftp import BaseFTPRealm, FTPFactory
from twisted.python import log
from twisted.python.filepath import FilePath


class Realm(BaseFTPRealm):
    def __init__(self, anonymous_root, homes):
        BaseFTPRealm.__init__(self, anonymous_root)
        self.homes = homes

    def getHomeDirectory(self, avatarId):
        return FilePath(self.homes[avatarId.decode() if isinstance(avatarId, bytes) else avatarId])


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    log.startLogging(sys.stderr)

    checker = InMemoryUsernamePasswordDatabaseDontUse()
    homes = {}
    for u in config["users"]:
        # twisted.protocols.ftp passes the USER and PASS arguments as str: keys and passwords too.
        checker.addUser(u["user"], u["password"])
        homes[u["user"]] = u["home"]
    checkers = [checker]
    anonymous = config.get("anonRoot") is not None
    if anonymous:
        checkers.append(AllowAnonymousAccess())
    portal = Portal(Realm(config.get("anonRoot") or "/nonexistent", homes), checkers)

    factory = FTPFactory(portal)
    factory.allowAnonymous = anonymous
    factory.passivePortRange = range(config["pasvRange"][0], config["pasvRange"][1] + 1)
    if config.get("connectionLimit") is not None:
        factory.connectionLimit = config["connectionLimit"]
    if config.get("welcomeMessage"):
        factory.welcomeMessage = config["welcomeMessage"]

    reactor.listenTCP(config["port"], factory, interface=config["host"])
    run_as = config.get("runAs")
    if run_as:
        os.setgroups([])
        os.setgid(run_as["gid"])
        os.setuid(run_as["uid"])
    reactor.run()


if __name__ == "__main__":
    main()
