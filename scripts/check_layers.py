#!/usr/bin/env python3
"""Fails if a file of one layer includes a header of a layer above it.

usage: scripts/check_layers.py [--libs BUILD_DIR] LAYER...   (lowest first, as CMakeLists.txt
lists them; run from the repository's root)

A layer's files are src/<layer>/ and include/logguard/<layer>/; its headers are included as
"logguard/<layer>/<name>.h". src/main.cpp is above every layer. Prints every include that runs
upward, as file:line, and exits 1 if there is one. With --libs, also every symbol a layer's
library (BUILD_DIR/liblogguard_<layer>.a) uses that only a layer above it defines (nm): a call
upward that links only because something else pulled the object in.
"""
import glob
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"logguard/([a-z_]+)/[^"]+"', re.M)


def symbols(library, flag):
    out = subprocess.run(["nm", flag, library], check=True, capture_output=True, text=True).stdout
    if flag == "-u":
        return {line.split()[-1] for line in out.splitlines() if line.strip().startswith("U ")}
    return {line.split()[-1] for line in out.splitlines()
            if re.match(r"^[0-9a-f]+ [TDBRVW] ", line)}


def upward_calls(layers, build_dir):
    defined = {layer: symbols(os.path.join(build_dir, "liblogguard_%s.a" % layer),
                              "--defined-only") for layer in layers}
    found = []
    for i, layer in enumerate(layers):
        for symbol in sorted(symbols(os.path.join(build_dir, "liblogguard_%s.a" % layer), "-u")):
            owners = [l for l in layers if symbol in defined[l]]
            if owners and all(layers.index(o) > i for o in owners):
                found.append("liblogguard_%s.a uses %s, defined only above it in %s" % (
                    layer, symbol, ", ".join(owners)))
    return found


def main(layers, build_dir=None):
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
    if build_dir:
        upward += upward_calls(layers, build_dir)
    for line in upward:
        print(line)
    print("%d layers, %s" % (len(layers), "%d problems" % len(upward) if upward else "no include upward"))
    return 1 if upward else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    build = None
    if args[:1] == ["--libs"]:
        build, args = args[1], args[2:]
    sys.exit(main(args, build))
