"""What seed 004's ingress gateway does in front of an external istiod, for the harness, where kwok runs no Envoy:
terminate TLS with the gateway's credential (a certificate for the DNS name the remote clusters use) and send each
connection on, over TLS, to the istiod Service port the VirtualService names - unverified, as the seed's
DestinationRule (mode SIMPLE, no CA) asks. The harness's API servers reach it by that name (harness.publish_name).

Used by the tests in-process: TlsGateway(cert_pem, key_pem, upstream) where upstream() gives the (host, port) to
dial now (None: refuse), then .start(), .port, .connections, .events, .errors, .close().
"""

import os
import socket
import socketserver
import ssl
import tempfile
import threading
import time

from egress_proxy import pump


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        gateway = self.server.gateway
        gateway.events.append((time.time(), "accepted"))
        try:
            downstream = gateway.server_context.wrap_socket(self.request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            gateway.errors.append("handshake: {0}".format(exc))
            return
        target = gateway.upstream()
        if target is None:
            gateway.errors.append("no upstream")
            downstream.close()
            return
        try:
            upstream = gateway.client_context.wrap_socket(socket.create_connection(target, timeout=5))
        except (OSError, ssl.SSLError) as exc:
            gateway.errors.append("upstream {0}: {1}".format(target, exc))
            downstream.close()
            return
        gateway.events.append((time.time(), "forwarding to {0}".format(target)))
        upstream.settimeout(None)
        back = threading.Thread(target=pump, args=(upstream, downstream), daemon=True)
        back.start()
        pump(downstream, upstream)
        back.join()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TlsGateway(object):
    def __init__(self, cert_pem, key_pem, upstream):
        self.upstream, self.errors, self.events = upstream, [], []
        self.server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # The context reads files only: the credential goes through a private temporary file, removed at once.
        with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
            handle.write(cert_pem + key_pem)
        try:
            self.server_context.load_cert_chain(handle.name)
        finally:
            os.remove(handle.name)
        self.client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client_context.check_hostname = False
        self.client_context.verify_mode = ssl.CERT_NONE
        self.server = None

    def start(self):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.gateway = self
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def connections(self):
        """How many connections it forwarded to istiod."""
        return len([e for e in self.events if e[1].startswith("forwarding")])

    @property
    def port(self):
        return self.server.server_address[1]

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
