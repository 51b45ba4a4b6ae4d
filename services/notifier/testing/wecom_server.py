"""A WeCom (企业微信) API on loopback: access tokens, application messages, group robots.

It answers what our senders call, as WeCom does:
- `GET /cgi-bin/gettoken?corpid&corpsecret` → `{errcode: 0, access_token, expires_in}`, or
  40013 / 40001 for a wrong corp id or secret;
- `POST /cgi-bin/message/send?access_token` (JSON) → `{errcode: 0, msgid, invaliduser}`;
  a token never issued is 40014, one `expire_tokens()` aged is 42001; a user id not in
  `users` comes back in `invaliduser`, as WeCom does for a user outside the visible range;
- `POST /cgi-bin/webhook/send?key` (JSON) → `{errcode: 0}`, or 93000 for an unknown key.

Answers to message sends can be scripted (`fail_next(errcode=45009)`); every request is
recorded with its JSON body.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

TEST_CORP_ID = "ww-test-corp"
TEST_SECRET = "test-wecom-secret"  # noqa: S105 - a loopback server's own secret
TEST_AGENT_ID = "1000002"
TEST_ROBOT_KEY = "test-robot-key"


@dataclass(frozen=True)
class Recorded:
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    errcode: int


@dataclass
class WeComTestServer:
    """Start with `with WeComTestServer(users={"zhangsan"}) as wecom:`; use `wecom.base_url`."""

    corp_id: str = TEST_CORP_ID
    secret: str = TEST_SECRET
    agent_id: str = TEST_AGENT_ID
    robot_key: str = TEST_ROBOT_KEY
    users: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"
    expires_in_s: int = 7200
    requests: list[Recorded] = field(default_factory=list)
    tokens_issued: int = 0
    _valid: set[str] = field(default_factory=set)
    _expired: set[str] = field(default_factory=set)
    _script: deque[dict[str, Any]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def fail_next(self, count: int = 1, *, errcode: int, errmsg: str = "scripted") -> None:
        """Answer the next `count` message or robot sends with this errcode."""
        with self._lock:
            self._script.extend({"errcode": errcode, "errmsg": errmsg} for _ in range(count))

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001 (access_token expired)."""
        with self._lock:
            self._expired |= self._valid
            self._valid.clear()

    def messages(self) -> list[Recorded]:
        """The application messages WeCom accepted."""
        with self._lock:
            return [
                r for r in self.requests if r.path == "/cgi-bin/message/send" and r.errcode == 0
            ]

    def robot_posts(self) -> list[Recorded]:
        with self._lock:
            return [
                r for r in self.requests if r.path == "/cgi-bin/webhook/send" and r.errcode == 0
            ]

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not started"
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def robot_url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={self.robot_key}"

    def start(self) -> WeComTestServer:
        server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WeComTestServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------
    def _answer(self, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            answer = self._decide(path, query, body)
            self.requests.append(Recorded(path, query, body, int(answer.get("errcode", 0))))
            return answer

    def _decide(self, path: str, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != self.corp_id:
                return {"errcode": 40013, "errmsg": "invalid corpid"}
            if query.get("corpsecret") != self.secret:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = uuid.uuid4().hex
            self._valid.add(token)
            self.tokens_issued += 1
            return {
                "errcode": 0,
                "errmsg": "ok",
                "access_token": token,
                "expires_in": self.expires_in_s,
            }
        if path == "/cgi-bin/message/send":
            token = query.get("access_token", "")
            if token in self._expired:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            if token not in self._valid:
                return {"errcode": 40014, "errmsg": "invalid access_token"}
            if self._script:
                return self._script.popleft()
            if str(body.get("agentid")) != self.agent_id:
                return {"errcode": 40056, "errmsg": "invalid agentid"}
            card = body.get("textcard") or {}
            if body.get("msgtype") != "textcard" or not card.get("title") or not card.get("url"):
                return {"errcode": 44004, "errmsg": "empty content"}
            invalid = "|".join(
                u for u in str(body.get("touser", "")).split("|") if u not in self.users
            )
            return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid, "msgid": uuid.uuid4().hex}
        if path == "/cgi-bin/webhook/send":
            if query.get("key") != self.robot_key:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            if self._script:
                return self._script.popleft()
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 404, "errmsg": "no such API"}


def _handler_for(server: WeComTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            answer = json.dumps(
                server._answer(split.path, query, body), ensure_ascii=False
            ).encode()
            try:
                self.send_response(200)  # WeCom answers 200 and says what went wrong inside
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = _handle
        do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
