"""The harness API server's way into the "cluster": an HTTP CONNECT proxy on a Unix socket, named in the API server's
egress selector configuration for the `cluster` egress (webhooks by Service, pods/exec, pods/proxy, services/proxy)
and the `controlplane` egress (webhooks by URL).

The harness has no pod network: a Service's ClusterIP or a pod's IP leads nowhere. This proxy connects only to
  - loopback addresses as they are (kwok's kubelet endpoint: the node's address is 127.0.0.1), and
  - the addresses listed in the routes file (ClusterIP:port or podIP:port -> 127.0.0.1:port of a local process,
    written by istiod_runner.py for each local istiod), and
  - the host names in the names file, which every harness cluster shares (name:port -> 127.0.0.1:port; the
    harness's DNS for what a real cluster would resolve publicly, written by harness.publish_name),
and refuses everything else at once with 502 and the reason, so no traffic ever leaves the loopback interface.

Usage: python egress_proxy.py SOCKET ROUTES_FILE NAMES_FILE   (runs until killed)
"""

import ipaddress
import json
import os
import socket
import socketserver
import sys
import threading


def log(message):
    sys.stderr.write("egress: {0}\n".format(message))
    sys.stderr.flush()


def read_routes(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def resolve(target, routes):
    """(host, port) to dial for a CONNECT target, or None when it is neither loopback nor routed."""
    if target in routes:
        host, port = routes[target].rsplit(":", 1)
        return host, int(port)
    host, dummy, port = target.rpartition(":")
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host.strip("[]"), int(port)
    except ValueError:
        pass
    return None


def pump(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        request = self.rfile.readline(65536).decode("latin-1").strip()
        while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
            pass
        parts = request.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        target = parts[1]
        routes = dict(read_routes(self.server.names_file), **read_routes(self.server.routes_file))
        dial = resolve(target, routes)
        if dial is None:
            log("refused {0}: no route (only loopback, the istiod addresses in the routes file and the names in the "
                "names file)".format(target))
            self.wfile.write("HTTP/1.1 502 Bad Gateway\r\n\r\nharness egress: no route to {0}\n".format(target).encode())
            return
        try:
            upstream = socket.create_connection(dial, timeout=5)
        except OSError as exc:
            log("{0} -> {1}:{2}: {3}".format(target, dial[0], dial[1], exc))
            self.wfile.write(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
            return
        upstream.settimeout(None)
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        back = threading.Thread(target=pump, args=(upstream, self.connection), daemon=True)
        back.start()
        pump(self.connection, upstream)
        back.join()
        upstream.close()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main(sock_path, routes_file, names_file):
    if os.path.exists(sock_path):
        os.remove(sock_path)
    server = Server(sock_path, Handler)
    server.routes_file, server.names_file = routes_file, names_file
    log("listening on {0}, routes from {1} and {2}".format(sock_path, routes_file, names_file))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
