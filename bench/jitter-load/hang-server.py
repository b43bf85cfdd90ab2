#!/usr/bin/env python3
"""Accepts TCP connections on 0.0.0.0:PORT and never answers: a hung backend for HTTP_GET checks."""
import socket, sys, time
port = int(sys.argv[1]) if len(sys.argv) > 1 else 18080
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(4096)
held = []
deadline = time.time() + 3600
while time.time() < deadline:
    c, _ = s.accept()
    held.append(c)
    if len(held) > 20000:
        held.pop(0).close()
