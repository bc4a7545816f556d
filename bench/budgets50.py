"""50 budgets of every scope kind for scripts/bench, from the values a store holds: single scopes
of each dimension, and pairs (department+model, department+feature, user+project)."""
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
vals = {d: [r[0] for r in db.execute("SELECT DISTINCT value FROM usage_dim_hourly WHERE dim = ? ORDER BY value", (d,))]
        for d in ["department", "model", "feature", "project", "user"]}
out = []


def add(scope, mode="soft"):
    n = len(out) + 1
    terms = ", ".join('"%s"' % s for s in scope)
    out.append(f'[[budget]]\nname = "b{n:02d}"\nscope = [{terms}]\nlimit = "5000 USD"\nmode = "{mode}"\n')


add(["organization"])
for d in vals["department"][:7]:
    add([f"department:{d}"])
for m in vals["model"][:10]:
    add([f"model:{m}"], "hard")
for f in vals["feature"][:8]:
    add([f"feature:{f}"])
for p in vals["project"][:6]:
    add([f"project:{p}"])
for u in vals["user"][:6]:
    add([f"user:{u}"], "hard")
for d in vals["department"][:4]:
    for m in vals["model"][:2]:
        add([f"department:{d}", f"model:{m}"], "hard")
for d in vals["department"][:2]:
    add([f"department:{d}", f"feature:{vals['feature'][0]}"], "hard")
for u in vals["user"][:2]:
    add([f"user:{u}", f"project:{vals['project'][0]}"], "hard")
print("\n".join(out))
