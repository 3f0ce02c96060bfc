"""A canned OpenAI-compatible chat-completions server on 127.0.0.1, so real agno runs need no network.

Standard library only: it is imported by the pytest side. The answers are deterministic functions of
the request, which lets the real agno call real python tools and write real session summaries:

- a request with tools whose last message is from the user calls one tool (`delegate_task_to_members`
  for a team leader, else the first tool) with canned arguments (`TOOL_ARGS`), unless the user text
  contains "(no tools)";
- after a tool result, the final answer names the question and the tool result, with reasoning;
- a request with a `response_format` (the session summary manager) gets a JSON summary.

Markers in the last user message, for the agno 3.1 scenarios (write_agno31.py); a text without them
is answered as above:

- "(call NAME)" calls the tool NAME instead of the first one, when the request offers it;
- "(fail)" answers HTTP 500 with `FAILURE_MESSAGE`, so agno stores an errored run.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL_ARGS = {
    "get_weather": {"city": "Lisbon"},
    "search_flights": {"destination": "Kyoto"},
    "search_hotels": {"city": "Kyoto"},
}
SUMMARY_TOPICS = ["testing", "agno"]
MAX_BODY = 2_000_000
MAX_REQUESTS = 2_000
FAILURE_MESSAGE = "The fake model failed on purpose (fail marker)"
_CALL_MARKER = re.compile(r"\(call ([A-Za-z0-9_.-]+)\)")


def summary_text(first_question: str) -> str:
    """The summary the server writes for a conversation that starts with `first_question`."""
    return f"The user asked: {first_question}"


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _tokens(text: str) -> int:
    return len(text) // 4 + 1


def fails(request: dict) -> bool:
    """Whether the request asks for a model failure: "(fail)" in its last user message."""
    messages = request.get("messages") or []
    last = messages[-1] if messages else {}
    return last.get("role") == "user" and "(fail)" in _text(last.get("content"))


def answer(request: dict) -> dict:
    """The chat.completion for one request body."""
    messages = request.get("messages") or []
    tools = [tool.get("function", {}) for tool in request.get("tools") or []]
    last = messages[-1] if messages else {}
    user_texts = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    message: dict = {"role": "assistant", "content": None}
    finish = "stop"
    if request.get("response_format"):
        conversation = _text(messages[0].get("content")) if messages else ""
        first = conversation.split("User: ", 1)[1].split("\n", 1)[0].strip() if "User: " in conversation else ""
        message["content"] = json.dumps({"summary": summary_text(first), "topics": SUMMARY_TOPICS})
    elif tools and last.get("role") == "user" and "(no tools)" not in _text(last.get("content")):
        names = [tool.get("name") for tool in tools]
        name = "delegate_task_to_members" if "delegate_task_to_members" in names else names[0]
        wanted = _CALL_MARKER.search(_text(last.get("content")))
        if wanted and wanted.group(1) in names:
            name = wanted.group(1)
        if name == "delegate_task_to_members":
            args = {"task": _text(last.get("content"))}
        else:
            required = (tools[names.index(name)].get("parameters") or {}).get("required") or []
            args = TOOL_ARGS.get(name) or {param: "test" for param in required}
        call_id = "call_" + hashlib.sha1(json.dumps([name, messages], sort_keys=True).encode()).hexdigest()[:16]
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        ]
        finish = "tool_calls"
    else:
        question = user_texts[-1] if user_texts else ""
        tool_results = [_text(m.get("content")) for m in messages if m.get("role") == "tool"]
        message["content"] = f"Answer to '{question}'" + (f" using: {tool_results[-1]}" if tool_results else ".")
        message["reasoning_content"] = f"Thinking about '{question}'."
    prompt_tokens = sum(_tokens(_text(m.get("content"))) for m in messages)
    completion_tokens = _tokens(message["content"] or json.dumps(message.get("tool_calls")))
    return {
        "id": "chatcmpl-" + hashlib.sha1(json.dumps(request, sort_keys=True).encode()).hexdigest()[:24],
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": request.get("model") or "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        server = self.server
        with server.lock:
            server.requests += 1
            too_many = server.requests > MAX_REQUESTS
        if too_many or length > MAX_BODY or not self.path.endswith("/chat/completions"):
            self._send(400, {"error": {"message": "unexpected request to the fake OpenAI server"}})
            return
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            self._send(400, {"error": {"message": "invalid JSON"}})
            return
        if request.get("stream"):
            self._send(400, {"error": {"message": "the fake OpenAI server does not stream"}})
            return
        if fails(request):
            self._send(500, {"error": {"message": FAILURE_MESSAGE, "type": "server_error"}})
            return
        self._send(200, answer(request))

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def fake_openai_server() -> Iterator[str]:
    """Serve on a free loopback port; yields the base URL (ending in /v1) and stops on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.lock = threading.Lock()
    server.requests = 0
    thread = threading.Thread(target=server.serve_forever, name="fake-openai", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
