"""Where a tip or evidence capture may connect: public addresses only, checked after DNS, pinned.

A tipped URL is attacker-chosen, and so is everything the page then loads (redirects, scripts,
iframes, workers, POSTs from its JavaScript). Checking the URL's text is not enough: the same
loopback host has many spellings (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`, `localhost`),
Python's `urlsplit` and Chromium disagree about `http://127.0.0.1:1\\@evil.example/`, and a DNS
name can answer a public address to the check and 127.0.0.1 to the browser (rebinding).

So Chromium is started with `GuardProxy` as its only way out: every HTTP request and every
HTTPS/WebSocket tunnel arrives there with the host Chromium itself parsed; the proxy resolves it,
refuses it when any address is loopback, private, link-local, CGNAT, multicast, unspecified,
reserved or an IPv4-in-IPv6 form of one of those (unless the operator allowed that range, see
`AddressPolicy`), and connects to the very address it checked. URLs given to wildwatch are read
with a WHATWG parser (ada-url, the one Node.js uses), so the early check sees what Chromium sees.
"""
from __future__ import annotations

import ipaddress
import logging
import select
import socket
import socketserver
import threading
from dataclasses import dataclass, field

from wildwatch.errors import UserError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
MAX_HEAD_BYTES = 32 * 1024
CONNECT_TIMEOUT_S = 10.0


class BadURL(UserError, ValueError):
    """The URL is not one wildwatch will fetch."""


class RefusedAddress(BadURL):
    """The URL's host is (or resolves to) an address captures must not reach."""


class UnresolvableHost(BadURL):
    """The host name has no address (a typo, or a name only an inside resolver knows)."""


@dataclass(frozen=True)
class ParsedURL:
    href: str
    scheme: str
    host: str  # as the browser will use it: IPv4 in dotted form, IPv6 without brackets, names lower-case
    port: int
    path: str = "/"  # path and query, as sent in the request line


def parse_url(url: str) -> ParsedURL:
    """The URL as a browser reads it (WHATWG); BadURL when it is not an absolute http(s) URL with a host."""
    import ada_url

    try:
        parsed = ada_url.URL(url)
    except ValueError:
        raise BadURL(f"{url!r} is not a valid URL") from None
    scheme = parsed.protocol.rstrip(":")
    if scheme not in ("http", "https"):
        raise BadURL(f"{url!r}: only http and https URLs can be fetched")
    host = parsed.hostname.strip("[]")
    if not host:
        raise BadURL(f"{url!r}: no host name")
    port = int(parsed.port) if parsed.port else (443 if scheme == "https" else 80)
    return ParsedURL(href=parsed.href, scheme=scheme, host=host, port=port,
                     path=(parsed.pathname or "/") + parsed.search)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, -compatible, 6to4, Teredo or NAT64 IPv6 address."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible form)
        return ipaddress.IPv4Address(int(ip))
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why a capture must not connect to `ip`, or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = blocked_reason(inner)
            return f"{reason} (inside {ip})" if reason else None
    for test, reason in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                         ("is_link_local", "link-local"), ("is_multicast", "multicast")):
        if getattr(ip, test):
            return reason
    if ip.version == 4 and ip in _CGNAT:
        return "carrier-grade NAT (100.64.0.0/10)"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:  # RFC 1918, ULA, and the other special-purpose ranges
        return "private"
    return None


@dataclass(frozen=True)
class AllowRule:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    port: int | None = None

    def matches(self, ip: IPAddress, port: int) -> bool:
        return ip.version == self.network.version and ip in self.network and self.port in (None, port)

    def __str__(self) -> str:
        return f"{self.network}" + (f" port {self.port}" if self.port is not None else "")


def parse_allow_rule(text: str) -> AllowRule:
    """`127.0.0.1`, `10.0.0.0/8`, `127.0.0.1:8000` or `[::1]:8000`: a range (and port) captures may reach."""
    spec, port = text.strip(), None
    if spec.startswith("["):
        inside, _, rest = spec[1:].partition("]")
        spec, port_text = inside, rest.removeprefix(":")
        port = int(port_text) if port_text.isascii() and port_text.isdigit() else (None if not rest else -1)
    elif spec.count(":") == 1:
        spec, port_text = spec.split(":")
        port = int(port_text) if port_text.isascii() and port_text.isdigit() else -1
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"WILDWATCH_FETCH_ALLOW: {text!r} has no valid port (1-65535)")
    try:
        network = ipaddress.ip_network(spec, strict=False)
    except ValueError:
        raise ValueError(f"WILDWATCH_FETCH_ALLOW: {text!r} is not an address range "
                         "(e.g. 127.0.0.1, 10.0.0.0/8, 127.0.0.1:8000, [::1]:8000)") from None
    return AllowRule(network, port)


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses, plus the ranges an operator allowed (none by default)."""

    allow: tuple[AllowRule, ...] = ()

    @classmethod
    def from_setting(cls, value: str | None) -> "AddressPolicy":
        return cls(tuple(parse_allow_rule(part) for part in (value or "").split(",") if part.strip()))

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        if any(rule.matches(ip, port) for rule in self.allow):
            return None
        return blocked_reason(ip)

    def resolve(self, host: str, port: int) -> IPAddress:
        """The address to connect to for host:port: every address the name has must be allowed (pinned)."""
        try:
            literal = ipaddress.ip_address(host.strip("[]").split("%")[0])
            addresses = [literal]
        except ValueError:
            name = host.lower().rstrip(".")
            if name == "localhost" or name.endswith(".localhost"):  # Chromium answers these itself, no DNS
                addresses = [ipaddress.ip_address("127.0.0.1")]
            else:
                addresses = self._lookup(host, port)
        for ip in addresses:
            reason = self.refusal(ip, port)
            if reason:
                where = host if str(ip) == host.strip("[]") else f"{host} ({ip})"
                raise RefusedAddress(f"{where} is a {reason} address; captures only reach public addresses "
                                     "(WILDWATCH_FETCH_ALLOW lists exceptions)")
        return addresses[0]

    @staticmethod
    def _lookup(host: str, port: int) -> list[IPAddress]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnresolvableHost(f"{host}: cannot be resolved ({exc})") from None
        return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def check_public_url(url: str, policy: AddressPolicy) -> ParsedURL:
    """The parsed URL when its host resolves only to addresses the policy allows; else RefusedAddress."""
    parsed = parse_url(url)
    policy.resolve(parsed.host, parsed.port)
    return parsed


# ---- the proxy Chromium must go through ----------------------------------------------------------


@dataclass
class ProxyLog:
    refused: list[tuple[str, str]] = field(default_factory=list)  # (target, reason)
    cut: list[tuple[str, str]] = field(default_factory=list)  # responses stopped at a size limit: (target, reason)
    requests: int = 0
    bytes_in: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_HOP_HEADERS = {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization", b"te", b"upgrade"}


def _read_head(sock: socket.socket, buffer: bytes = b"") -> tuple[bytes, bytes]:
    """(head up to and including the blank line, bytes already read after it)."""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD_BYTES:
            raise ValueError("head too large")
        chunk = sock.recv(8192)
        if not chunk:
            raise ValueError("closed before the head ended")
        buffer += chunk
    end = buffer.index(b"\r\n\r\n") + 4
    return buffer[:end], buffer[end:]


class _Handler(socketserver.BaseRequestHandler):
    server: "_ProxyServer"

    def _answer(self, status: int, message: str) -> None:
        body = f"wildwatch: {message}\n".encode()
        self.request.sendall(f"HTTP/1.1 {status} Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def _refuse(self, target: str, reason: str) -> None:
        with self.server.log.lock:
            self.server.log.refused.append((target, reason))
        log.warning("capture refused %s: %s", target, reason)
        body = f"wildwatch refused this request: {reason}\n".encode()
        self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                             b"X-Wildwatch-Refused: 1\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    def handle(self) -> None:
        with self.server.log.lock:
            self.server.open_sockets.add(self.request)
        try:
            self._handle()
        finally:
            with self.server.log.lock:
                self.server.open_sockets.discard(self.request)

    def _handle(self) -> None:
        self.request.settimeout(CONNECT_TIMEOUT_S)
        try:
            head, rest = _read_head(self.request)
        except (ValueError, OSError):
            return
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].decode("latin-1").split(" ")
        except ValueError:
            return
        with self.server.log.lock:
            self.server.log.requests += 1
            over = self.server.log.bytes_in > self.server.max_bytes
        if over:
            self._refuse(target, f"the capture already loaded more than {self.server.max_bytes:,} bytes")
            return
        url = f"https://{target}/" if method == "CONNECT" else target  # CONNECT names host:port only
        try:
            parsed = parse_url(url)
            ip = self.server.policy.resolve(parsed.host, parsed.port)
        except UnresolvableHost as exc:
            self._answer(502, str(exc))
            return
        except BadURL as exc:
            self._refuse(target, str(exc))
            return
        try:
            upstream = socket.create_connection((str(ip), parsed.port), timeout=CONNECT_TIMEOUT_S)
        except OSError as exc:
            self._answer(502, f"could not connect to {parsed.host}: {exc}")
            return
        with upstream:
            if method == "CONNECT":
                self._pipe(upstream, rest, rewrite_response=False, established=True)
                return
            headers = [line for line in lines[1:] if line and line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
            head = (f"{method} {parsed.path} {version}\r\n".encode("latin-1") + b"\r\n".join(headers)
                    + b"\r\nConnection: close\r\n\r\n")
            self._pipe(upstream, head + rest, rewrite_response=True, target=target)

    def _cut(self, target: str, reason: str) -> None:
        with self.server.log.lock:
            self.server.log.cut.append((target, reason))
        log.warning("capture cut %s: %s", target, reason)

    def _pipe(self, upstream: socket.socket, pending: bytes, *, rewrite_response: bool, target: str = "",
              established: bool = False) -> None:
        try:
            if established:
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(upstream, pending, rewrite_response=rewrite_response, target=target)
        except OSError:
            pass  # either side went away (Chromium closed the page, the server reset): the relay is over

    def _relay(self, upstream: socket.socket, pending: bytes, *, rewrite_response: bool, target: str) -> None:
        """Relay both ways until one side closes; the response is told `Connection: close` (no reuse).

        A plain-HTTP response past `max_response` bytes, or anything past the capture's `max_bytes`,
        is cut off (a tunnel's HTTPS responses cannot be told apart, so only the total applies there).
        """
        if pending:
            upstream.sendall(pending)
        client = self.request
        response_head = b"" if rewrite_response else None
        received = 0
        while True:
            ready, _, _ = select.select([client, upstream], [], [], self.server.idle_timeout)
            if not ready:
                return
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                if sock is upstream:
                    received += len(data)
                    with self.server.log.lock:
                        self.server.log.bytes_in += len(data)
                        over = self.server.log.bytes_in > self.server.max_bytes
                    if over:
                        self._cut(target, f"the capture loaded more than {self.server.max_bytes:,} bytes")
                        return
                    if rewrite_response and received > self.server.max_response:
                        self._cut(target, f"the response is larger than {self.server.max_response:,} bytes")
                        return
                    if response_head is not None:
                        response_head += data
                        if b"\r\n\r\n" not in response_head:
                            continue
                        head, _, body = response_head.partition(b"\r\n\r\n")
                        kept = [line for line in head.split(b"\r\n")
                                if line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
                        data = b"\r\n".join(kept) + b"\r\nConnection: close\r\n\r\n" + body
                        response_head = None
                    client.sendall(data)
                else:
                    upstream.sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, policy: AddressPolicy, max_bytes: int, max_response: int, idle_timeout: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.policy, self.max_bytes, self.max_response, self.idle_timeout = policy, max_bytes, max_response, idle_timeout
        self.log = ProxyLog()
        self.open_sockets: set[socket.socket] = set()


class GuardProxy:
    """Context manager: a proxy on 127.0.0.1 for one capture; `.server` is Chromium's proxy setting."""

    def __init__(self, policy: AddressPolicy, *, max_bytes: int = 50_000_000, max_response: int = 10_000_000,
                 idle_timeout: float = 30.0) -> None:
        self._server = _ProxyServer(policy, max_bytes, max_response, idle_timeout)
        self._thread = threading.Thread(target=self._server.serve_forever, name="capture-proxy", daemon=True)

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def log(self) -> ProxyLog:
        return self._server.log

    def __enter__(self) -> "GuardProxy":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        with self._server.log.lock:  # the capture is over: connections still relaying end now, not at their timeout
            for sock in self._server.open_sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
