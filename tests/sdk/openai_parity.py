"""Call the upstream directly and through the shadowtap tap with the official OpenAI Python SDK,
and fail if anything the SDK returns differs.

Usage: python openai_parity.py DIRECT_BASE_URL TAP_BASE_URL   (base URLs without /v1)
"""
import json
import sys

from openai import OpenAI, APIStatusError

WEATHER_TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]},
    },
}]
SYSTEM = {"role": "system", "content": "You are a concise, accurate assistant."}


def user(text):
    return [SYSTEM, {"role": "user", "content": text}]


def plain(c):
    return c.chat.completions.create(
        model="gpt-4o-mini", messages=user("How do I reset my account password?"), temperature=0
    ).model_dump()


def streaming(c):
    stream = c.chat.completions.create(
        model="gpt-4o-mini", messages=user("Summarize the 4.2 release notes: new SSO support, 30% faster search, "
                                           "dark mode, and removal of the legacy v1 API."),
        temperature=0, stream=True, stream_options={"include_usage": True})
    return [chunk.model_dump() for chunk in stream]


def streaming_tool_call(c):
    stream = c.chat.completions.create(
        model="gpt-4o-mini", messages=user("What's the weather like in Paris right now?"),
        tools=WEATHER_TOOLS, temperature=0, stream=True)
    return [chunk.model_dump() for chunk in stream]


def tool_calls(c):
    r = c.chat.completions.create(
        model="gpt-4o-mini", messages=user("What's the weather like in Paris right now?"),
        tools=WEATHER_TOOLS, temperature=0)
    call = r.choices[0].message.tool_calls[0]
    return {"name": call.function.name, "arguments": json.loads(call.function.arguments), "full": r.model_dump()}


def json_mode(c):
    r = c.chat.completions.create(
        model="gpt-4o-mini", response_format={"type": "json_object"}, temperature=0,
        messages=user("Extract invoice_number, total, currency and due_date as JSON from: Invoice INV-2024-0117, "
                      "total due EUR 1,249.50 by 15 March 2024."))
    return json.loads(r.choices[0].message.content)


def error(model):
    def call(c):
        try:
            c.chat.completions.create(model=model, messages=user("hello"))
        except APIStatusError as e:
            return {"type": type(e).__name__, "status": e.status_code, "body": e.body,
                    "retry_after": e.response.headers.get("retry-after")}
        raise AssertionError(f"{model} should have failed")
    return call


CASES = [
    ("non-streaming", plain),
    ("streaming with usage", streaming),
    ("streaming tool call", streaming_tool_call),
    ("tool calls", tool_calls),
    ("JSON mode", json_mode),
    ("upstream 400", error("fail-400")),
    ("upstream 429", error("fail-429")),
]


def main():
    direct_url, tap_url = sys.argv[1], sys.argv[2]
    key = "sk-test-sdk-parity-0123456789abcdef"
    direct = OpenAI(api_key=key, base_url=direct_url + "/v1", max_retries=0, timeout=20)
    tap = OpenAI(api_key=key, base_url=tap_url + "/v1", max_retries=0, timeout=20)
    passed = failed = 0
    for name, case in CASES:
        expected, got = case(direct), case(tap)
        if expected == got:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}\n  direct: {json.dumps(expected, sort_keys=True)[:2000]}\n"
                  f"  tap:    {json.dumps(got, sort_keys=True)[:2000]}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
