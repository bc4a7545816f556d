#!/usr/bin/env python3
"""Golden CLI tests of the real billctl binary (after ledger's test/RegressTests.py).

A case file holds setup commands and one checked command, then the expected exit code, stdout
and stderr:

    # what this case shows
    $ billctl usage import --quiet $FIXTURES/small.csv
    $ billctl report --period 2026-10 --format json
    >>> exit 0
    >>> stdout
    ...
    >>> stderr
    ...

Every command runs in a fresh temporary directory ($TMP) with TZ=UTC, LC_ALL=C, NO_COLOR=1,
COLUMNS=100, a pinned BILLCTL_NOW, a temp store and an empty config. Setup commands must exit 0.
`run.py --update CASE...` rewrites the expectations from the actual output.
"""
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
NOW = "2026-11-02T08:00:00Z"


def parse(path):
    setup, command, exit_code, sections, current = [], None, 0, {"stdout": [], "stderr": []}, None
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        if current is None:
            if line.startswith("$ "):
                if command is not None:
                    setup.append(command)
                command = line[2:]
            elif line.startswith(">>> exit "):
                exit_code = int(line[len(">>> exit "):])
            elif line in (">>> stdout", ">>> stderr"):
                current = line[4:]
            elif line.startswith("#") or not line.strip():
                continue
            else:
                raise SystemExit(f"{path}: unexpected line: {line!r}")
        else:
            if line in (">>> stdout", ">>> stderr"):
                current = line[4:]
            else:
                sections[current].append(line)
    if command is None:
        raise SystemExit(f"{path}: no command")
    return setup, command, exit_code, sections


def header_of(path):
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f.read().split("\n"):
            if line.startswith(">>> "):
                break
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out


def run(binary, command, tmp, env):
    # Paths in commands stay relative to the case's directory so output does not depend on where
    # the checkout or the temp directory lives.
    cmd = command.replace("$FIXTURES", "fixtures").replace("$TMP", ".")
    argv = shlex.split(cmd)
    shell_ops = any(op in argv for op in ("|", "||", "&&", ">", "<", ";"))
    if argv and argv[0] == "billctl" and not shell_ops:
        argv[0] = binary
        p = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    else:  # a shell pipeline, for stdin cases
        env2 = dict(env)
        env2["PATH"] = os.path.dirname(binary) + os.pathsep + env["PATH"]
        p = subprocess.run(["/bin/sh", "-c", cmd], cwd=tmp, env=env2, capture_output=True)
    def norm(b):
        s = b.decode("utf-8", errors="replace")
        return s.replace(tmp, "$TMP")
    return p.returncode, norm(p.stdout), norm(p.stderr)


def main():
    args = sys.argv[1:]
    update = False
    if args and args[0] == "--update":
        update = True
        args = args[1:]
    binary = os.environ.get("BILLCTL_BIN") or os.path.join(ROOT, "build", "debug", "billctl")
    if len(args) < 1:
        raise SystemExit("usage: run.py [--update] CASE.test...")
    failed = 0
    for case in args:
        setup, command, want_exit, want = parse(case)
        with tempfile.TemporaryDirectory(prefix="billctl-golden-") as tmp:
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "TZ": "UTC",
                "LC_ALL": "C",
                "NO_COLOR": "1",
                "COLUMNS": "100",
                "HOME": tmp,
                "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
                "XDG_DATA_HOME": os.path.join(tmp, "data"),
                "BILLCTL_DB": "store.db",
                "BILLCTL_NOW": NOW,
                "USER": "tester",
            }
            for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
                if key in os.environ:
                    env[key] = os.environ[key]
            os.symlink(FIXTURES, os.path.join(tmp, "fixtures"))
            for s in setup:
                code, out, err = run(binary, s, tmp, env)
                if code != 0:
                    print(f"FAIL {case}: setup '{s}' exited {code}\n{out}{err}")
                    failed += 1
                    break
            else:
                code, out, err = run(binary, command, tmp, env)
                if update:
                    header = header_of(case)
                    with open(case, "w", encoding="utf-8", newline="") as f:
                        f.write("\n".join(header) + "\n")
                        f.write(f">>> exit {code}\n>>> stdout\n{out}>>> stderr\n{err}")
                    print(f"updated {case}")
                    continue
                got_out, got_err = out, err
                exp_out = "\n".join(want["stdout"]) + ("\n" if want["stdout"] else "")
                exp_err = "\n".join(want["stderr"]) + ("\n" if want["stderr"] else "")
                problems = []
                if code != want_exit:
                    problems.append(f"exit {code}, expected {want_exit}")
                if got_out != exp_out:
                    problems.append("stdout differs")
                if got_err != exp_err:
                    problems.append("stderr differs")
                if problems:
                    failed += 1
                    print(f"FAIL {case}: {', '.join(problems)}")
                    import difflib
                    for name, e, g in (("stdout", exp_out, got_out), ("stderr", exp_err, got_err)):
                        if e != g:
                            sys.stdout.writelines(difflib.unified_diff(
                                e.splitlines(True), g.splitlines(True), f"expected {name}", f"actual {name}"))
                else:
                    print(f"ok {case}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
