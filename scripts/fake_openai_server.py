#!/usr/bin/env python3
"""A small stand-in for an OpenAI-compatible server (vLLM, llama.cpp's server, Ollama), for tests.

Speaks POST /v1/completions and POST /v1/chat/completions (plus GET /v1/models and GET /stats) on
127.0.0.1, answers deterministically, logs every request, and fails on purpose when asked.

    fake_openai_server.py [--port 0] [--log requests.jsonl] [--script faults.json]
                          [--api-key KEY] [--model NAME] [--max-lifetime 300]

The first line on stdout is the bound port (flushed). The server exits when stdin reaches EOF (so
it dies with the test that started it), on SIGTERM/SIGINT, or after --max-lifetime seconds.

Answers. The text is derived from the prompt's last non-empty line (for chat: the last user
message), with markers removed:
    completions: " Because you watched {last}, this one fits.\n"
    chat:        "\nChat: because you watched {last}, this one fits. "
(the surrounding whitespace is deliberate: clients should trim). usage.prompt_tokens counts the
whitespace-separated words of the prompt (all messages for chat), completion_tokens those of the
text. An answer longer than max_tokens words is cut there with finish_reason "length".

Faults, by markers inside the prompt (checked in order; attempts are counted per prompt text, so
"fail twice then succeed" works for every prompt on its own):
    [[fail:CODE]]                      answer HTTP CODE with an OpenAI-style error body, once
    [[fail:CODE:times=N]]              ... for the first N attempts (times=always: every attempt)
    [[fail:CODE:retry-after=V]]        ... with the header Retry-After: V (verbatim)
    [[fail:CODE:retry-after-date=S]]   ... with Retry-After as an HTTP-date S seconds from now
    [[fail:CODE:message=TEXT]]         ... with that error message
    [[slow:MS]] / [[slow:MS:times=N]]  wait MS milliseconds before answering (every attempt / first N)
    [[close]] / [[close:times=N]]      close the connection without answering
    [[length]]                         finish_reason "length"
    [[ramble]]                         the answer goes on as small models do: "\n\nQuestion: ..." 20 times
The request's "stop" strings (a string or a list) cut the answer before the first of them, with
finish_reason "stop", as OpenAI-compatible servers do; max_tokens applies after that.
    [[badjson]]                        a 200 whose body is not JSON
    [[badjson:nochoices]]              a 200 JSON body without "choices"
    [[badjson:notext]]                 a 200 whose choices[0] lacks the text / message
Several fail/close markers run one after another: "[[fail:429:times=1]][[fail:500:times=2]]" is
429, then 500 twice, then success.

Faults by a --script JSON file: {"rules": [RULE, ...]}, each RULE
    {"match": "substring of the prompt" (default: every request),
     "marker": "[[fail:500:times=2]]"   (any markers above, same meaning),
     "scope": "prompt" | "global"       (count attempts per prompt text (default) or over all)}

Checks: --api-key KEY requires "Authorization: Bearer KEY" (else 401); --model NAME requires that
model (else 404). A body that is not a JSON object, or lacks prompt/messages, is a 400.

Log (--log FILE, JSON lines, written when a request arrives): {"time", "method", "path",
"headers" (lower-case names), "body" (parsed JSON, or the raw text), "attempt", "in_flight"
(requests being handled at arrival, this one included), "status" (what it will answer)}.
GET /stats answers {"requests": N, "max_in_flight": M}.
"""

import argparse
import email.utils
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = re.compile(r"\[\[([a-z]+)((?::[^\]:]*)*)\]\]")


def parse_markers(text):
    """[(name, [args], {options})] for every marker in text, in order."""
    found = []
    for match in MARKER.finditer(text):
        name = match.group(1)
        parts = [p for p in match.group(2).split(":")[1:]]
        args, options = [], {}
        for part in parts:
            if "=" in part:
                key, value = part.split("=", 1)
                options[key] = value
            else:
                args.append(part)
        found.append((name, args, options))
    return found


def strip_markers(text):
    return MARKER.sub("", text)


def times_of(options, default):
    value = options.get("times")
    if value is None:
        return default
    if value == "always":
        return None
    return int(value)


class Plan:
    """What to do for one request: the outcome chosen from markers and the attempt number."""

    def __init__(self):
        self.fail = None  # (code, options) or "close"
        self.slow_ms = 0
        self.length = False
        self.ramble = False
        self.badjson = None


def plan_for(markers, attempt):
    """Chooses the behaviour for attempt number `attempt` (1-based) from the markers."""
    plan = Plan()
    used = 0  # attempts consumed by earlier sequential faults
    for name, args, options in markers:
        if name in ("fail", "close"):
            times = times_of(options, 1)
            if plan.fail is None:
                if times is None or attempt <= used + times:
                    if attempt > used:
                        plan.fail = "close" if name == "close" else (int(args[0]) if args else 500, options)
                if times is not None:
                    used += times
                else:
                    used = float("inf")
        elif name == "slow":
            times = times_of(options, None)
            if times is None or attempt <= times:
                plan.slow_ms = max(plan.slow_ms, int(args[0]) if args else 1000)
        elif name == "length":
            plan.length = True
        elif name == "ramble":
            plan.ramble = True
        elif name == "badjson":
            plan.badjson = args[0] if args else "syntax"
    return plan


class State:
    def __init__(self, log_path, rules, api_key, model):
        self.lock = threading.Lock()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.rules = rules
        self.api_key = api_key
        self.model = model
        self.attempts = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0

    def arrive(self, keys):
        """Counts the request; returns ({key: attempt}, in_flight)."""
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            numbers = {}
            for key in keys:
                self.attempts[key] = self.attempts.get(key, 0) + 1
                numbers[key] = self.attempts[key]
            return numbers, self.in_flight

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def log(self, entry):
        if self.log_file is None:
            return
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
        with self.lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


def prompt_text(path, body):
    """The text the markers are read from, and the text the answer is derived from."""
    if path.endswith("/chat/completions"):
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return None, None
        contents = [m.get("content") for m in messages if isinstance(m, dict)]
        if not all(isinstance(c, str) for c in contents):
            return None, None
        users = [m["content"] for m in messages if m.get("role") == "user"]
        return "\n".join(contents), (users[-1] if users else contents[-1])
    prompt = body.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        return None, None
    return prompt, prompt


def answer_text(path, source):
    lines = [line.strip() for line in strip_markers(source).splitlines() if line.strip()]
    last = lines[-1] if lines else "nothing"
    if path.endswith("/chat/completions"):
        return f"\nChat: because you watched {last}, this one fits. "
    return f" Because you watched {last}, this one fits.\n"


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeOpenAI/1"

        def log_message(self, format, *args):  # quiet
            pass

        def send_json(self, status, payload, headers=None, raw=None):
            data = raw if raw is not None else json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def error(self, status, message, kind="invalid_request_error", headers=None):
            self.send_json(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

        def do_GET(self):
            if self.path == "/stats":
                with state.lock:
                    payload = {"requests": state.requests, "max_in_flight": state.max_in_flight}
                self.send_json(200, payload)
            elif self.path in ("/v1/models", "/models"):
                name = state.model or "fake-model"
                self.send_json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self.error(404, f"no route GET {self.path}")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            text = raw.decode("utf-8", errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                body = None
            chat = self.path in ("/v1/chat/completions", "/chat/completions")
            completions = self.path in ("/v1/completions", "/completions")
            source, last = prompt_text(self.path, body) if isinstance(body, dict) and (chat or completions) else (None, None)

            markers, keys = [], []
            if source is not None:
                markers_here = parse_markers(source)
                if markers_here:
                    markers.append(("prompt:" + source, markers_here))
                for index, rule in enumerate(state.rules):
                    if rule.get("match", "") in source:
                        scope = rule.get("scope", "prompt")
                        key = f"rule{index}:" + (source if scope == "prompt" else "")
                        markers.append((key, parse_markers(rule.get("marker", ""))))
            keys = [key for key, _ in markers]
            numbers, in_flight = state.arrive(keys)
            self.left = False
            try:
                attempt = max(numbers.values()) if numbers else 1
                plan = Plan()
                for key, found in markers:
                    p = plan_for(found, numbers[key])
                    plan.fail = plan.fail or p.fail
                    plan.slow_ms = max(plan.slow_ms, p.slow_ms)
                    plan.length = plan.length or p.length
                    plan.ramble = plan.ramble or p.ramble
                    plan.badjson = plan.badjson or p.badjson
                self.respond(body, text, chat, completions, source, last, plan, attempt, in_flight)
            finally:
                self.leave_once()

        def respond(self, body, text, chat, completions, source, last, plan, attempt, in_flight):
            status, problem = 200, None
            auth = self.headers.get("Authorization")
            if not (chat or completions):
                status, problem = 404, f"no route POST {self.path}"
            elif not isinstance(body, dict):
                status, problem = 400, "the body is not a JSON object"
            elif source is None:
                status, problem = 400, ("messages must be a non-empty list of {role, content}" if chat else "prompt is required")
            elif state.api_key is not None and auth != f"Bearer {state.api_key}":
                status, problem = 401, "invalid or missing API key"
            elif state.model is not None and body.get("model") != state.model:
                status, problem = 404, f"The model `{body.get('model')}` does not exist."
            elif plan.fail == "close":
                status = 0
            elif plan.fail is not None:
                status = plan.fail[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.log({"time": time.time(), "method": "POST", "path": self.path, "headers": headers,
                       "body": body if body is not None else text, "attempt": attempt,
                       "in_flight": in_flight, "status": status})

            if plan.slow_ms:
                time.sleep(plan.slow_ms / 1000.0)
            if problem is not None:
                return self.finish_with(lambda: self.error(status, problem, "authentication_error" if status == 401 else "invalid_request_error"))
            if status == 0:
                self.close_connection = True
                return
            if plan.fail is not None:
                code, options = plan.fail
                extra = {}
                if "retry-after" in options:
                    extra["Retry-After"] = options["retry-after"]
                if "retry-after-date" in options:
                    when = time.time() + float(options["retry-after-date"])
                    extra["Retry-After"] = email.utils.formatdate(when, usegmt=True)
                message = options.get("message") or f"scripted failure {code} (attempt {attempt})"
                kind = "rate_limit_error" if code == 429 else ("server_error" if code >= 500 else "invalid_request_error")
                return self.finish_with(lambda: self.error(code, message, kind, extra))
            if plan.badjson == "nochoices":
                return self.finish_with(lambda: self.send_json(200, {"id": "x", "object": "text_completion"}))
            if plan.badjson == "notext":
                return self.finish_with(lambda: self.send_json(200, {"choices": [{"index": 0, "finish_reason": "stop"}]}))
            if plan.badjson:
                return self.finish_with(lambda: self.send_json(200, None, raw=b'{"choices": [{"text": "unterminated'))

            answer = answer_text(self.path, last)
            if plan.ramble:
                answer += "\n\nQuestion: what else would you like to watch tonight? Answer: something similar." * 20
            stops = body.get("stop") or []
            for stop in [stops] if isinstance(stops, str) else stops:
                if isinstance(stop, str) and stop and stop in answer:
                    answer = answer[: answer.index(stop)]
            words = answer.split()
            max_tokens = body.get("max_tokens")
            finish = "stop"
            if isinstance(max_tokens, int) and 0 < max_tokens < len(words):
                answer, words, finish = " ".join(words[:max_tokens]), words[:max_tokens], "length"
            if plan.length:
                finish = "length"
            usage = {"prompt_tokens": len(source.split()), "completion_tokens": len(words)}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            model = body.get("model", "")
            created = int(time.time())
            if chat:
                choice = {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}
                payload = {"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model,
                           "choices": [choice], "usage": usage}
            else:
                choice = {"index": 0, "text": answer, "logprobs": None, "finish_reason": finish}
                payload = {"id": "cmpl-fake", "object": "text_completion", "created": created, "model": model,
                           "choices": [choice], "usage": usage}
            self.finish_with(lambda: self.send_json(200, payload))

        def leave_once(self):
            if not self.left:
                self.left = True
                state.leave()

        def finish_with(self, send):
            # Leave the in-flight count before the response goes out, so that a client that starts
            # its next request as soon as it has this answer never sees this one still counted.
            self.leave_once()
            send()

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--script", help="a JSON file of fault rules")
    parser.add_argument("--api-key", help="require Authorization: Bearer KEY")
    parser.add_argument("--model", help="require this model name")
    parser.add_argument("--max-lifetime", type=float, default=300.0, help="exit after this many seconds")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("this test server listens on loopback only")

    rules = []
    if args.script:
        with open(args.script, encoding="utf-8") as f:
            rules = json.load(f).get("rules", [])

    state = State(args.log, rules, args.api_key, args.model)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(state))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    timer = threading.Timer(args.max_lifetime, stop)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        if state.log_file:
            state.log_file.close()
    os._exit(0)


if __name__ == "__main__":
    main()
