#!/usr/bin/env python3
"""Fails if a file of one layer includes a header of a layer above it.

usage: scripts/check_layers.py LAYER...   (lowest first, as CMakeLists.txt lists them; run from
the repository's root)

A layer's files are src/<layer>/ and include/logguard/<layer>/; its headers are included as
"logguard/<layer>/<name>.h". src/main.cpp is above every layer. Prints every include that runs
upward, as file:line, and exits 1 if there is one.
"""
import glob
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"logguard/([a-z_]+)/[^"]+"', re.M)


def main(layers):
    rank = {layer: i for i, layer in enumerate(layers)}
    upward = []
    for layer in layers:
        files = glob.glob("src/%s/*" % layer) + glob.glob("include/logguard/%s/*" % layer)
        if not files:
            upward.append("no files for layer %s" % layer)
        for path in sorted(files):
            text = open(path, encoding="utf-8").read()
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                if target not in rank:
                    upward.append("%s:%d: includes unknown layer %s" % (
                        path, text.count("\n", 0, match.start()) + 1, target))
                elif rank[target] > rank[layer]:
                    upward.append("%s:%d: %s includes %s, a layer above it" % (
                        path, text.count("\n", 0, match.start()) + 1, layer, target))
    stray = [p for p in glob.glob("src/*.cpp") + glob.glob("include/logguard/*.h")
             if os.path.basename(p) != "main.cpp"]
    upward += ["%s: in no layer's folder" % p for p in stray]
    for line in upward:
        print(line)
    print("%d layers, %s" % (len(layers), "%d problems" % len(upward) if upward else "no include upward"))
    return 1 if upward else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
