#!/usr/bin/env python3
"""Fills each ```console block of the given Markdown files with the output
of its `$ dpo-lab ...` commands (what TRYCMD=overwrite would do)."""
import re, shlex, subprocess, sys
import os
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'target', 'release', 'dpo-lab')
for path in sys.argv[1:]:
    text = open(path).read()
    def fill(m):
        lines = [l for l in m.group(1).split('\n') if l.startswith('$ ')]
        out = []
        for l in lines:
            args = shlex.split(l[2:])
            assert args[0] == 'dpo-lab', l
            r = subprocess.run([BIN] + args[1:], capture_output=True, text=True)
            out.append(l)
            if r.returncode != 0: out.append(f'? {r.returncode}')
            body = r.stdout + r.stderr
            # trycmd reads the line before the closing fence as the end of
            # the output: a trailing newline shows as an empty line.
            if body: out.append(body[:-1] + '\n' if body.endswith('\n') else body)
        return '```console\n' + '\n'.join(out) + '\n```'
    text = re.sub(r'```console\n(.*?)```', fill, text, flags=re.S)
    open(path, 'w').write(text)
