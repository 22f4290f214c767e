"""A server that accepts TCP connections on loopback and never answers: a mirror or registry that hangs.

    stall_server.py PORT PIDFILE   (exits by itself after 10 minutes, in case the test cannot stop it)
"""
import os
import socket
import sys
import time

port, pidfile = int(sys.argv[1]), sys.argv[2]
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(64)
server.settimeout(1)
with open(pidfile, "w", encoding="utf-8") as handle:
    handle.write(str(os.getpid()))
held = []
deadline = time.time() + 600
while time.time() < deadline:
    try:
        held.append(server.accept()[0])
    except socket.timeout:
        pass
