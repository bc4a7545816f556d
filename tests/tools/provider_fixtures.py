#!/usr/bin/env python3
"""Writes the provider API datasets the mock provider serves (tests/fixtures/providers/).

Nine days of OpenAI usage and costs (two projects, completions, embeddings, images, web search)
and of Anthropic usage and cost reports (two workspaces, cache writes, web search), shaped like
the bodies in REFERENCE.md A5 and B4. Costs follow the list prices, except where noted: that is
what `report reconcile` must find. Deterministic; run it to regenerate the fixtures.
"""
import json, os, sys
from datetime import datetime, timezone, timedelta
from decimal import Decimal as D

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures", "providers")
start = datetime(2026, 10, 25, tzinfo=timezone.utc)
days = [start + timedelta(days=i) for i in range(9)]  # 2026-10-25 .. 2026-11-02
M = D(1000000)

def ts(d): return int(d.timestamp())
def iso(d): return d.strftime("%Y-%m-%dT%H:%M:%SZ")

P1, P2 = "proj_4BhNtYH0z7dWbBtzhibxa65W", "proj_Q7mX2cV9rL1tYb8sNw3eKd0A"

def openai(revised):
    comp, emb, img, web, costs = [], [], [], [], []
    for i, d in enumerate(days):
        e = d + timedelta(days=1)
        res, cres = [], []
        for proj, model, price, k in ((P1, "gpt-5-mini-2025-08-07", (D("0.25"), D("0.025"), D("2.00")), 1),
                                      (P2, "gpt-4.1-2025-04-14", (D("2.00"), D("0.50"), D("8.00")), 2)):
            cached = 400000 + 10000 * i * k
            uncached = 700000 + 50000 * i * k
            output = 200000 + 7000 * i * k
            if revised and d.day == 31 and proj == P1: output += 90000   # a provisional day revised
            if revised and d.day == 28 and proj == P1: uncached += 1000  # a settled day revised
            reqs = 1500 + 40 * i * k
            res.append({"object": "organization.usage.completions.result",
                        "input_tokens": uncached + cached, "input_cached_tokens": cached,
                        "input_cache_write_tokens": 0, "input_uncached_tokens": uncached, "output_tokens": output,
                        "input_text_tokens": uncached, "input_cached_text_tokens": cached, "output_text_tokens": output,
                        "input_audio_tokens": 0, "input_cached_audio_tokens": 0, "output_audio_tokens": 0,
                        "input_image_tokens": 0, "input_cached_image_tokens": 0, "output_image_tokens": 0,
                        "num_model_requests": reqs, "project_id": proj, "user_id": None, "api_key_id": None,
                        "model": model, "batch": False, "service_tier": "default"})
            pin, pca, pout = price
            amounts = [("input", uncached, pin), ("cached input", cached, pca), ("output", output, pout)]
            for cls, q, p in amounts:
                v = D(q) * p / M
                # OpenAI billed gpt-4.1 output at a new price from 2026-10-30: a price change the catalog lacks.
                if model.startswith("gpt-4.1") and cls == "output" and d >= datetime(2026, 10, 30, tzinfo=timezone.utc):
                    v = D(q) * D("9.00") / M
                cres.append({"object": "organization.costs.result", "amount": {"value": v, "currency": "usd"},
                             "line_item": f"{model}, {cls}", "project_id": proj, "api_key_id": None,
                             "quantity": q, "quantity_unit": "tokens"})
        comp.append({"object": "bucket", "start_time": ts(d), "end_time": ts(e), "results": res})
        emb.append({"object": "bucket", "start_time": ts(d), "end_time": ts(e), "results": [
            {"object": "organization.usage.embeddings.result", "input_tokens": 2500000 + 1000 * i, "num_model_requests": 320 + i,
             "project_id": P2, "user_id": None, "api_key_id": None, "model": "text-embedding-3-small"}]})
        img.append({"object": "bucket", "start_time": ts(d), "end_time": ts(e), "results": [] if i % 3 else [
            {"object": "organization.usage.images.result", "images": 12 + i, "num_model_requests": 12 + i, "source": "image.generation",
             "size": "1024x1024", "project_id": P1, "user_id": None, "api_key_id": None, "model": "gpt-image-1"}]})
        web.append({"object": "bucket", "start_time": ts(d), "end_time": ts(e), "results": [
            {"object": "organization.usage.web_searches.result",
             "num_model_requests": 40 + i, "num_requests": 55 + i, "project_id": P1, "user_id": None, "api_key_id": None,
             "model": "gpt-5-mini-2025-08-07", "context_level": "medium"}]})
        emb_cost = D(2500000 + 1000 * i) * D("0.02") / M
        cres.append({"object": "organization.costs.result", "amount": {"value": emb_cost, "currency": "usd"},
                     "line_item": "text-embedding-3-small, input", "project_id": P2, "api_key_id": None,
                     "quantity": 2500000 + 1000 * i, "quantity_unit": "tokens"})
        cres.append({"object": "organization.costs.result", "amount": {"value": D(55 + i) * D("0.01"), "currency": "usd"},
                     "line_item": "web search tool calls", "project_id": P1, "api_key_id": None,
                     "quantity": 55 + i, "quantity_unit": None})
        if d.day == 2:
            cres = []  # the provider has not billed today yet
        costs.append({"object": "bucket", "start_time": ts(d), "end_time": ts(e), "results": cres})
    return {"completions": comp, "embeddings": emb, "images": img, "web_search_calls": web, "costs": costs}

W1, W2 = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "wrkspc_01KmR8tYvN3pQx2LdE9sWbHc"

def anthropic(revised):
    msgs, costs = [], []
    rates = {"uncached_input_tokens": D(3), "output_tokens": D(15), "cache_read_input_tokens": D("0.30"),
             "cache_creation.ephemeral_5m_input_tokens": D("3.75"), "cache_creation.ephemeral_1h_input_tokens": D(6)}
    names = {"uncached_input_tokens": "Input Tokens", "output_tokens": "Output Tokens", "cache_read_input_tokens": "Cache Read",
             "cache_creation.ephemeral_5m_input_tokens": "Cache Write (5m)", "cache_creation.ephemeral_1h_input_tokens": "Cache Write (1h)"}
    for i, d in enumerate(days):
        e = d + timedelta(days=1)
        res, cres = [], []
        for ws, k in ((W1, 1), (None, 2)):
            u = {"uncached_input_tokens": 1250000 + 30000 * i * k, "cache_read_input_tokens": 8400000 + 100000 * i,
                 "cache_creation.ephemeral_5m_input_tokens": 600000, "cache_creation.ephemeral_1h_input_tokens": 150000 * k,
                 "output_tokens": 310000 + 9000 * i * k}
            if revised and d.day == 31 and ws == W1: u["output_tokens"] += 50000
            searches = 12 + i if ws == W1 else 0
            res.append({"api_key_id": None, "workspace_id": ws, "model": "claude-sonnet-4-5-20250929", "service_tier": "standard",
                        "context_window": "0-200k", "inference_geo": "global",
                        "uncached_input_tokens": u["uncached_input_tokens"],
                        "cache_creation": {"ephemeral_5m_input_tokens": u["cache_creation.ephemeral_5m_input_tokens"],
                                           "ephemeral_1h_input_tokens": u["cache_creation.ephemeral_1h_input_tokens"]},
                        "cache_read_input_tokens": u["cache_read_input_tokens"], "output_tokens": u["output_tokens"],
                        "server_tool_use": {"web_search_requests": searches}})
            for tt, q in u.items():
                cents = D(q) * rates[tt] / M * 100
                cres.append({"amount": f"{cents:.2f}", "currency": "USD", "cost_type": "tokens",
                             "description": f"Claude Sonnet 4.5 Usage - {names[tt]}", "model": "claude-sonnet-4-5-20250929",
                             "service_tier": "standard", "context_window": "0-200k", "token_type": tt,
                             "inference_geo": "global", "workspace_id": ws})
            if searches:
                cres.append({"amount": f"{D(searches) * 1:.2f}", "currency": "USD", "cost_type": "web_search",
                             "description": "Web Search Usage", "model": None, "service_tier": None, "context_window": None,
                             "token_type": None, "inference_geo": None, "workspace_id": ws})
        # A long-context batch of requests on one day (priced at the long-context rates).
        if d.day == 29:
            res.append({"api_key_id": None, "workspace_id": W1, "model": "claude-sonnet-4-5-20250929", "service_tier": "batch",
                        "context_window": "200k-1M", "inference_geo": "global", "uncached_input_tokens": 4000000,
                        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                        "cache_read_input_tokens": 0, "output_tokens": 100000, "server_tool_use": {"web_search_requests": 0}})
            for tt, q, r in (("uncached_input_tokens", 4000000, D(3)), ("output_tokens", 100000, D("11.25"))):
                cents = D(q) * r / M * 100
                cres.append({"amount": f"{cents:.2f}", "currency": "USD", "cost_type": "tokens",
                             "description": f"Claude Sonnet 4.5 Batch Usage - {names[tt]} (long context)",
                             "model": "claude-sonnet-4-5-20250929", "service_tier": "batch", "context_window": "200k-1M",
                             "token_type": tt, "inference_geo": "global", "workspace_id": W1})
        msgs.append({"starting_at": iso(d), "ending_at": iso(e), "results": res})
        costs.append({"starting_at": iso(d), "ending_at": iso(e), "results": [] if d.day == 2 else cres})
    return {"messages": msgs, "cost_report": costs}

def exact(o):
    if isinstance(o, dict): return {k: exact(v) for k, v in o.items()}
    if isinstance(o, list): return [exact(v) for v in o]
    if isinstance(o, D): return RawNumber(o)
    return o

class RawNumber(float):
    def __new__(cls, d):
        x = float.__new__(cls, float(d)); x.text = format(d.normalize(), "f"); return x
    def __repr__(self): return self.text

os.makedirs(out, exist_ok=True)
for name, obj in (("openai.json", openai(False)), ("openai-revised.json", openai(True)),
                  ("anthropic.json", anthropic(False)), ("anthropic-revised.json", anthropic(True))):
    text = json.dumps(exact(obj), indent=1)
    with open(os.path.join(out, name), "w") as f:
        f.write(text + "\n")
