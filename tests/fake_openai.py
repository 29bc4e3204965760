"""A local HTTP server that speaks the chat-completions API with Structured Outputs, so tests
drive the real ``openai`` client over real requests. It answers by the response schema's name
(``response_format.json_schema.name``) with a small deterministic "model"; ``script`` queues
replies (an HTTP status code, raw message content, or None: the default answer) used first."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_PASSAGE = re.compile(r"^\[(\d+)\]", re.MULTILINE)
_SENTENCE = re.compile(r"^(¶ )?(\d+)\. (.*)$", re.MULTILINE)


def default_answer(schema: str, user: str, speaker_of=None) -> dict:
    """A valid answer: labels from the keywords, bullets citing sent passages, turns by '?'
    (or by ``speaker_of(text) -> role`` when given)."""
    if schema == "topic_label":
        words = user.split("\n", 1)[0].removeprefix("Keywords: ").split(", ")[:3]
        return {"label": " and ".join(words).title(), "description": f"The speakers discuss {words[0]}."}
    if schema == "speaker_turns":
        turns = []
        for _, number, text in _SENTENCE.findall(user):
            role = speaker_of(text) if speaker_of else ("host" if text.rstrip().endswith("?") else "guest")
            if not turns or turns[-1]["role"] != role:
                turns.append({"first": int(number), "role": role})
        return {"turns": turns}
    ids = [int(i) for i in _PASSAGE.findall(user)]
    bullets = [{"text": "The guest explains the first point.", "citations": [ids[0]]},
               {"text": "The host asks about the last point.", "citations": [ids[-1], ids[0]]}]
    if schema in ("episode_summary", "chapter_summary"):
        return {"bullets": bullets}
    if schema == "chapters":
        half = ids[len(ids) // 2]
        return {"chapters": [
            {"start": ids[0], "title": "Opening", "bullets": [{"text": "Intro.", "citations": [ids[0]]}]},
            {"start": half, "title": "The main part", "bullets": [{"text": "Main.", "citations": [ids[-1]]}]}]}
    raise ValueError(f"unknown schema {schema}")


class FakeOpenAI:
    def __init__(self):
        self.requests: list[dict] = []  # {"path", "headers", "body"} of every request received
        # int: reply with that HTTP status ((status, headers) to add headers); str: that message content
        self.script: list = []
        self.speaker_of = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _reply(self, body: dict) -> tuple[int, dict, dict]:
        step = self.script.pop(0) if self.script else None
        if step is not None:
            status, headers = step if isinstance(step, tuple) else (step, {})
            if isinstance(status, int):
                return status, {"error": {"message": f"scripted {status}", "type": "server_error"}}, headers
            content = step
        else:
            schema = body["response_format"]["json_schema"]["name"]
            content = json.dumps(default_answer(schema, body["messages"][-1]["content"], self.speaker_of))
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        return 200, {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 0,
                     "model": body["model"],
                     "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                  "message": {"role": "assistant", "content": content, "refusal": None}}],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": len(content) // 4,
                               "total_tokens": prompt + len(content) // 4}}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload, headers = (404, {"error": {"message": "not found"}}, {}) \
                    if self.path != "/v1/chat/completions" else fake._reply(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler
