"""Loopback-only static file server with an access log, for the Node mirror.

Each request becomes one line "METHOD PATH STATUS" in the log so tests can count downloads.
A file named PATH.override next to a served file is served instead of it, which lets a test
corrupt a tarball or a signature without rebuilding the mirror. /_/TAG/PATH serves PATH.
"""

import argparse
import functools
import http.server
import ipaddress
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    log_path = None

    def translate_path(self, path):
        # /_/TAG/REST serves REST: scenarios running at once tag their URLs to count only their own
        # requests in the shared log.
        parts = path.split("/", 3)
        if len(parts) == 4 and parts[1] == "_":
            path = "/" + parts[3]
        real = super().translate_path(path)
        return real + ".override" if os.path.isfile(real + ".override") else real

    def log_request(self, code="-", size="-"):
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path} {code}\n")

    def log_message(self, format, *args):  # noqa: A002 - keep stderr quiet
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    if not ipaddress.ip_address(args.bind).is_loopback:
        sys.exit("refusing to listen outside loopback")
    Handler.log_path = args.log
    handler = functools.partial(Handler, directory=args.root)
    http.server.ThreadingHTTPServer((args.bind, args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
