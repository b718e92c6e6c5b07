"""Who is on the other end of a Unix socket: only the same user may talk to the library's owner.

The socket file is 0600, which already keeps other users out on Linux; reading the peer's
credentials from the kernel on every connection is the second lock on the same door (and the only
one on systems that ignore a socket file's mode). Both sides check: the owner refuses a client of
another user, and a client refuses to hand its command to an "owner" run by another user.
"""

from __future__ import annotations

import logging
import socket
import struct
import sys
from typing import NamedTuple

log = logging.getLogger(__name__)

# macOS and FreeBSD: getsockopt(SOL_LOCAL, LOCAL_PEERCRED) fills a struct xucred
# {u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16]} (76 bytes); Python does not
# name these constants on every version, so their values from <sys/un.h> are the fallback.
_SOL_LOCAL = getattr(socket, "SOL_LOCAL", 0)
_LOCAL_PEERCRED = getattr(socket, "LOCAL_PEERCRED", 1)
_XUCRED_SIZE = 76
_XUCRED_VERSION = 0


class PeerCred(NamedTuple):
    pid: int  # -1 where the kernel does not say (macOS)
    uid: int
    gid: int  # -1 where not read


def read_peer_cred(sock: socket.socket) -> PeerCred | None:
    """The kernel's word on the peer's identity, or None where this system offers no way to ask."""
    try:
        if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid_t pid; uid_t uid; gid_t gid;}
            raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            return PeerCred(*struct.unpack("3i", raw))
        if sys.platform == "darwin" or sys.platform.startswith("freebsd"):
            raw = sock.getsockopt(_SOL_LOCAL, _LOCAL_PEERCRED, _XUCRED_SIZE)
            version, uid = struct.unpack_from("2I", raw)
            if version == _XUCRED_VERSION:
                return PeerCred(-1, uid, -1)
    except OSError as exc:
        log.warning("cannot read the credentials of a handoff peer: %s", exc)
    return None


def peer_allowed(cred: tuple[int, int, int] | None, own_uid: int, socket_dir_secret: bool) -> bool:
    """May a peer with `cred` (pid, uid, gid) talk to us? Only our own user. Where the credentials are
    unknown, only if the socket lives in a folder nobody else can enter (see handoff_address)."""
    if cred is None:
        return socket_dir_secret
    return PeerCred(*cred).uid == own_uid


def admits(sock: socket.socket, own_uid: int, socket_dir_secret: bool) -> bool:
    """The check both sides run on every connection, right after connect/accept."""
    cred = read_peer_cred(sock)
    allowed = peer_allowed(cred, own_uid, socket_dir_secret)
    if not allowed:
        log.warning("refused a handoff peer of another user (%s)", cred)
    return allowed
