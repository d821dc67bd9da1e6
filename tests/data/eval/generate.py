#!/usr/bin/env python3
"""Builds tests/data/eval/pairs.jsonl, the labelled evaluation set of `shadowtap eval`.

The cases themselves are hand-written in cases_*.py next to this file; this script only wraps them
into OpenAI-shaped requests, chat completions and error bodies, checks the labels and writes one
JSON object per line. Run it after editing a case file:

    python3 tests/data/eval/generate.py

Labels follow what a careful human reviewer would say about the candidate answer, not what the
differ happens to output: "flag" = the verdict should be regression or incompatible, "pass" = same,
noise or minor is right.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PROD_MODEL = "gpt-4o-mini-2024-07-18"
_created = [1735689600]


def _next_created():
    _created[0] += 7
    return _created[0]


def req(user, system=None, tools=None, json_mode=False, schema=None, temperature=0, **extra):
    """A chat request: optional system prompt, declared tools, JSON mode or a JSON schema."""
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    if isinstance(user, list):
        messages.extend(user)
    else:
        messages.append({"role": "user", "content": user})
    body = {"model": "gpt-4o-mini", "messages": messages}
    if temperature is not None:
        body["temperature"] = temperature
    if tools:
        body["tools"] = [{"type": "function", "function": t} for t in tools]
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    if schema:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "extraction", "strict": True, "schema": schema},
        }
    body.update(extra)
    return body


def ans(content, finish="stop", model=PROD_MODEL, refusal=None):
    """A chat completion whose first choice says `content`."""
    message = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    words = len((content or "").split())
    return {
        "id": f"chatcmpl-{_next_created()}",
        "object": "chat.completion",
        "created": _created[0],
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 120, "completion_tokens": max(1, words * 4 // 3),
                  "total_tokens": 120 + max(1, words * 4 // 3)},
    }


def calls(*tool_calls, content=None, model=PROD_MODEL, finish="tool_calls"):
    """A chat completion that calls tools: each call is (name, arguments) where arguments is a
    dict (serialised compactly) or a raw string (kept as is, e.g. broken JSON)."""
    out = []
    for i, (name, args) in enumerate(tool_calls):
        raw = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        out.append({"id": f"call_{_next_created():x}{i}", "type": "function",
                    "function": {"name": name, "arguments": raw}})
    return {
        "id": f"chatcmpl-{_next_created()}",
        "object": "chat.completion",
        "created": _created[0],
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                                              "tool_calls": out},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": 210, "completion_tokens": 24, "total_tokens": 234},
    }


def err(message, code, type_="invalid_request_error", param=None):
    """An OpenAI-style error body (the candidate failed)."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


CATEGORIES = {
    "paraphrase", "noise", "wrong_number", "negation", "dropped_step", "wrong_tool_argument",
    "dropped_tool_call", "hallucinated_tool", "wrong_tool", "unwanted_tool_call", "invalid_json",
    "json_structure", "refusal", "truncation", "empty", "language_switch", "formatting",
    "content_filter", "incompatible", "safety", "classification", "wrong_entity",
}


def main():
    import cases_pass
    import cases_noise
    import cases_flag
    import cases_tools
    import cases_holdout

    cases = []
    for module in (cases_pass, cases_noise, cases_flag, cases_tools, cases_holdout):
        cases.extend(module.cases())
    seen = set()
    lines = []
    for c in cases:
        assert c["id"] not in seen, f"duplicate id {c['id']}"
        seen.add(c["id"])
        assert c["category"] in CATEGORIES, c["category"]
        assert c["expected"] in ("flag", "pass"), c["id"]
        row = {k: c[k] for k in ("id", "category", "note", "request", "production", "candidate")}
        if c.get("control") is not None:
            row["control"] = c["control"]
        row["expected"] = c["expected"]
        lines.append(json.dumps(row, ensure_ascii=False))
    with open(os.path.join(HERE, "pairs.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    counts = {}
    for c in cases:
        counts[(c["category"], c["expected"])] = counts.get((c["category"], c["expected"]), 0) + 1
    for (cat, exp), n in sorted(counts.items()):
        print(f"{cat:22} {exp:5} {n}")
    print(f"total {len(cases)}")


def case(id, category, note, request, production, candidate, expected, control=None):
    return {"id": id, "category": category, "note": note, "request": request,
            "production": production, "candidate": candidate, "control": control,
            "expected": expected}


if __name__ == "__main__":
    main()
