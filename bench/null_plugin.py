"""The null reader (bench/null_reader.cpp) as a managed plugin `nullreader` of an engine.

Packaged as logguard is (plugin/package.sh): a rootfs with the binary and the shared libraries
it loads, and a config.json; created and enabled in the engine of a tests/e2e/harness.Engine.
The engine then runs it as it runs logguard (its own shim, cgroup and mount namespace, the FIFOs
in its rootfs), so the two are measured alike.
"""
import json
import os
import shutil
import subprocess

NAME = "nullreader"
SOCKET = "null.sock"
CONFIG = {
    "description": "reads every log stream and discards it (bench/null_reader.cpp)",
    "documentation": "bench/README.md in the logguard source tree",
    "entrypoint": ["/usr/bin/null_reader", "--socket", "/run/docker/plugins/" + SOCKET],
    "interface": {"types": ["docker.logdriver/1.0"], "socket": SOCKET},
    "network": {"type": "host"},
}


def binary(build_dir):
    path = os.path.join(os.path.abspath(build_dir), "null_reader")
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s is missing: configure with -DLOGGUARD_BENCH=ON and build the "
                           "null_reader target" % path)
    return path


def libraries(path):
    """The shared libraries `path` loads, the loader included (as plugin/package.sh finds them)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1 and \
                parts[parts.index("=>") + 1].startswith("/"):
            libs.append(parts[parts.index("=>") + 1])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def package(build_dir, out_dir):
    exe = binary(build_dir)
    rootfs = os.path.join(out_dir, "rootfs")
    shutil.rmtree(rootfs, ignore_errors=True)
    for sub in ("usr/bin", "run/docker/plugins", "tmp", "etc", "proc", "dev", "sys"):
        os.makedirs(os.path.join(rootfs, sub), exist_ok=True)
    shutil.copy(exe, os.path.join(rootfs, "usr/bin/null_reader"))
    for lib in libraries(exe):
        target = rootfs + lib
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(os.path.realpath(lib), target)
    for top in ("lib", "lib64"):
        link = os.path.join(rootfs, top)
        if not os.path.lexists(link) and os.path.islink("/" + top):
            os.symlink(os.readlink("/" + top), link)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=1)


def install(engine, build_dir):
    """Creates and enables `nullreader` in the engine; returns its plugin PID."""
    out_dir = os.path.join(engine.dir, "null-plugin")
    package(build_dir, out_dir)
    engine.docker("plugin", "create", NAME, out_dir)
    engine.docker("plugin", "enable", "--timeout", "0", NAME)
    return engine.plugin_pid(NAME, "null_reader")
