#!/usr/bin/env python3
"""Claude Code session logs for scripts/bench, with the structure Claude Code writes.

    gen_claude_logs.py DIR LINES [SEED]

Writes DIR/projects/<encoded cwd>/<session>.jsonl, ~500 lines per file (1M lines: ~2,000 files,
~1.2 GB): summary lines; user prompts; assistant responses written as one line per content block
(text, tool_use), each repeating the message's id, requestId and usage (duplicates within a
file); user lines carrying tool results (the bulk of the bytes); sidechain (sub-agent) messages;
synthetic messages; and resumed sessions whose files begin with a copy of the previous file's
last messages (duplicates across files). Timestamps spread over October 2026, UTC. Deterministic
for a seed.
"""
import json
import os
import random
import sys

MODELS = [("claude-sonnet-4-5-20250929", 70), ("claude-haiku-4-5-20251001", 20), ("claude-opus-4-1-20250805", 10)]
WORDS = ("the function returns a value when the input is valid and otherwise raises an error that the "
         "caller handles by logging it and retrying the request with a smaller batch size").split()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def main():
    out, lines, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    models = [m for m, w in MODELS for _ in range(w)]
    per_file = 500
    files = max(1, lines // per_file)
    written = 0
    previous_tail = []
    for f in range(files):
        project = f"proj-{f % 40}"
        cwd = f"/home/dev/{project}"
        d = os.path.join(out, "projects", cwd.replace("/", "-"))
        os.makedirs(d, exist_ok=True)
        session = f"{seed:08x}-{f:04x}-4000-8000-{rng.getrandbits(48):012x}"
        day = 1 + f * 31 // files
        t = (day - 1) * 86400 + rng.randrange(8 * 3600, 18 * 3600)
        rows = []
        if previous_tail and rng.random() < 0.1:  # a resumed session starts with the last messages again
            rows.extend(previous_tail)
        rows.append({"type": "summary", "summary": text(rng, 6), "leafUuid": f"u-{f}-0"})
        parent = None
        n = 0
        while len(rows) < per_file:
            n += 1
            uid = f"u-{f}-{n}"
            stamp = lambda: f"2026-10-{day:02d}T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}.{rng.randrange(1000):03d}Z"
            base = {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd,
                    "sessionId": session, "version": "2.0.14", "gitBranch": "main"}
            if n % 6 == 1:
                rows.append({**base, "type": "user", "message": {"role": "user", "content": text(rng, 30)},
                             "uuid": uid, "timestamp": stamp()})
                parent = uid
                t += rng.randrange(2, 20)
                continue
            sidechain = rng.random() < 0.15
            model = rng.choice(models)
            msg_id = f"msg_{seed:02x}{f:05x}{n:05x}{rng.getrandbits(32):08x}"
            req_id = f"req_{rng.getrandbits(64):016x}"
            cw = rng.randrange(0, 20000) if rng.random() < 0.3 else 0
            cw1h = cw // 4 if rng.random() < 0.2 else 0
            usage = {"input_tokens": rng.randrange(1, 400), "cache_creation_input_tokens": cw,
                     "cache_read_input_tokens": rng.randrange(0, 120000), "output_tokens": rng.randrange(1, 3000),
                     "cache_creation": {"ephemeral_5m_input_tokens": cw - cw1h, "ephemeral_1h_input_tokens": cw1h},
                     "service_tier": "standard"}
            if rng.random() < 0.01:
                model, usage = "<synthetic>", {"input_tokens": 0, "output_tokens": 0}
            blocks = [{"type": "text", "text": text(rng, 40)}]
            if rng.random() < 0.6:
                blocks.append({"type": "tool_use", "id": f"toolu_{rng.getrandbits(64):016x}", "name": "Read",
                               "input": {"file_path": f"{cwd}/src/module_{rng.randrange(100)}.py"}})
            stamp_text = stamp()
            for b in blocks:  # one line per content block, the usage repeated on each
                rows.append({**base, "isSidechain": sidechain, "type": "assistant",
                             "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                         "content": [b], "stop_reason": None, "usage": usage},
                             "requestId": req_id, "uuid": uid + "-" + b["type"], "timestamp": stamp_text})
            if len(blocks) > 1:  # the tool's result comes back as a user line: most of the bytes
                rows.append({**base, "type": "user",
                             "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": blocks[1]["id"],
                                                                      "content": text(rng, 260)}]},
                             "uuid": uid + "-r", "timestamp": stamp(), "toolUseResult": {"type": "text"}})
            parent = uid
            t += rng.randrange(5, 90)
        with open(os.path.join(d, session + ".jsonl"), "w") as fh:
            for r in rows:
                fh.write(json.dumps(r, separators=(",", ":")) + "\n")
        written += len(rows)
        previous_tail = [r for r in rows[-40:] if r.get("type") == "assistant"]
    print(f"{written} lines in {files} files", file=sys.stderr)


if __name__ == "__main__":
    main()
