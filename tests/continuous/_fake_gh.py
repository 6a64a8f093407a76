#!/usr/bin/env python3
"""A recording stand-in for the GitHub CLI, put on PATH by the continuous e2e test only.

There is no GitHub here. Every call is appended to ``$FAKE_GH_RECORD`` (JSON lines: argv,
working directory, the ``GH_REPO`` it was given and the text of any ``--body-file``), and the
pull requests it was asked to open are kept in ``$FAKE_GH_STATE`` so that ``gh pr list``
answers as GitHub would (``--json`` fields, ``--jq`` through the real jq; like gh, a null
result prints an empty line, not ``null``). Anything else succeeds and prints nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _opt(argv: list[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _body(argv: list[str]) -> str | None:
    path = _opt(argv, "--body-file") or _opt(argv, "-F")
    if path is not None:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return _opt(argv, "--body") or _opt(argv, "-b")


def _print_json(value: object, jq: str | None) -> None:
    text = json.dumps(value)
    if jq is None:
        print(text)
        return
    out = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True, check=True)
    lines = ["" if line == "null" else line for line in out.stdout.splitlines()]
    sys.stdout.write("".join(line + "\n" for line in lines))


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_GH_STATE"])
    prs: list[dict] = json.loads(state_path.read_text()) if state_path.exists() else []
    body = _body(argv)
    with open(os.environ["FAKE_GH_RECORD"], "a", encoding="utf-8") as fh:
        call = {"argv": argv, "cwd": os.getcwd(), "repo": os.environ.get("GH_REPO"), "body": body}
        fh.write(json.dumps(call) + "\n")
    if argv[:2] == ["pr", "list"]:
        head, state = _opt(argv, "--head"), _opt(argv, "--state") or "open"
        found = [p for p in prs if head in (None, p["headRefName"])]
        found = [p for p in found if state in ("all", p["state"])]
        fields = (_opt(argv, "--json") or "").split(",")
        rows = [{k: p.get(k) for k in fields if k} for p in found] if fields != [""] else found
        if _opt(argv, "--json") is None:
            for p in found:
                print(f"{p['number']}\t{p['title']}\t{p['headRefName']}")
            return 0
        _print_json(rows, _opt(argv, "--jq") or _opt(argv, "-q"))
        return 0
    if argv[:2] == ["pr", "create"]:
        number = len(prs) + 1
        prs.append(
            {
                "number": number,
                "title": _opt(argv, "--title") or _opt(argv, "-t") or "",
                "headRefName": _opt(argv, "--head") or _opt(argv, "-H") or "",
                "baseRefName": _opt(argv, "--base") or _opt(argv, "-B") or "main",
                "body": body or "",
                "state": "open",
                "url": f"https://github.invalid/pull/{number}",
            }
        )
        state_path.write_text(json.dumps(prs))
        print(prs[-1]["url"])
        return 0
    if argv[:2] == ["pr", "edit"] and len(argv) > 2:
        for p in prs:
            if str(p["number"]) == argv[2] or p["headRefName"] == argv[2]:
                p["body"] = body if body is not None else p["body"]
                p["title"] = _opt(argv, "--title") or p["title"]
        state_path.write_text(json.dumps(prs))
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
