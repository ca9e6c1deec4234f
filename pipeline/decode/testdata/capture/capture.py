"""Captures the OTLP spans a real GenAI instrumentation library emits.

It starts a fake OpenAI-compatible server on 127.0.0.1, instruments the
official openai client with one library (the profile named on the command
line), makes a chat completion with cached and reasoning tokens, an
embeddings call and a rate-limited chat call, and writes the finished
spans as one OTLP ExportTraceServiceRequest, protobuf encoded and base64
on one line: the record the OpenTelemetry Collector's Kafka exporter would
write (otlp_proto), in the line format of `awumeter process --format
otlp_proto`.

    python capture.py otel-genai|openinference|openllmetry OUT.b64

capture.sh runs it in one virtualenv per profile with the pinned packages
of requirements-<profile>.txt. The usage the fake server reports is fixed
(USAGE below), so the expected events in expected-<profile>.json follow
from it and from what each library makes of it.
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# What the fake server bills: OpenAI's usage object, in which prompt_tokens
# includes the cached tokens and completion_tokens the reasoning tokens.
USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 85,
    "total_tokens": 1285,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 40, "audio_tokens": 0},
}
EMBEDDING_USAGE = {"prompt_tokens": 42, "total_tokens": 42}
# Anthropic's usage object, in which input_tokens excludes the cache reads
# and writes: 1,607 + 9,800 = 11,407 input tokens in all.
ANTHROPIC_USAGE = {"input_tokens": 1607, "output_tokens": 100,
                   "cache_creation_input_tokens": 9800, "cache_read_input_tokens": 0}


class FakeOpenAI(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.endswith("/messages"):
            self.reply(200, {
                "id": "msg_capture", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [{"type": "text", "text": "Your refund is on its way."}],
                "stop_reason": "end_turn", "stop_sequence": None,
                "usage": ANTHROPIC_USAGE,
            })
            return
        if self.path.endswith("/embeddings"):
            self.reply(200, {
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "usage": EMBEDDING_USAGE,
            })
            return
        if request["messages"][-1]["content"] == "rate limit me":
            self.reply(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})
            return
        self.reply(200, {
            "id": "chatcmpl-capture",
            "object": "chat.completion",
            "created": 1767225600,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Your refund is on its way."}}],
            "usage": USAGE,
        })


def instrument(profile, provider):
    """Instruments openai, and anthropic where the library has an
    instrumentation for it; returns whether anthropic is instrumented."""
    if profile == "otel-genai":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        OpenAIInstrumentor().instrument(tracer_provider=provider)
        return False
    if profile == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
        from openinference.instrumentation.anthropic import AnthropicInstrumentor
    elif profile == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
        try:
            from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
        except ImportError:  # the older release captured has no anthropic
            AnthropicInstrumentor = None
    else:
        sys.exit("profile must be otel-genai, openinference or openllmetry")
    OpenAIInstrumentor().instrument(tracer_provider=provider)
    if AnthropicInstrumentor is None:
        return False
    AnthropicInstrumentor().instrument(tracer_provider=provider)
    return True


def main():
    profile, out = sys.argv[1], sys.argv[2]
    server = HTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "capture", "tenant.id": "capture"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with_anthropic = instrument(profile, provider)

    import openai

    client = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % server.server_port, api_key="test", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Where is my refund?"}])
    client.embeddings.create(model="text-embedding-3-small", input="Where is my refund?")
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "rate limit me"}])
    except openai.RateLimitError:
        pass
    if with_anthropic:
        import anthropic

        claude = anthropic.Anthropic(base_url="http://127.0.0.1:%d" % server.server_port, api_key="test", max_retries=0)
        claude.messages.create(model="claude-sonnet-4-6", max_tokens=256,
                               messages=[{"role": "user", "content": "Where is my refund?"}])
    server.shutdown()

    spans = exporter.get_finished_spans()
    request = encode_spans(spans)
    with open(out, "w") as f:
        f.write(base64.b64encode(request.SerializeToString()).decode() + "\n")
    for s in spans:
        print(s.name, json.dumps(dict(s.attributes), default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
