#!/usr/bin/env bash
# Binary size for bench/RESULTS.md: the static daemon as a router would
# take it (MinSizeRel: -Os, unused sections dropped, stripped), and what
# each library costs in it, from the linker's map (text, rodata and data
# of the pieces linked; bss takes no room in the file).
# Usage: bench/size.sh [BUILD_DIR] [cmake options...]  (default build-size)
set -eu
dir=${1:-build-size}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=MinSizeRel -DSIMPLED_TESTS=OFF \
	-DCMAKE_EXE_LINKER_FLAGS="-Wl,-Map=$PWD/$dir/simpled.map" "$@" >/dev/null
rm -f "$dir/firmware/simpled"
cmake --build "$dir" -j"$(nproc)" --target simpled >/dev/null
strip -o "$dir/simpled.stripped" "$dir/firmware/simpled"
echo "stripped static binary: $(stat -c %s "$dir/simpled.stripped") bytes"
/usr/bin/python3 - "$dir/simpled.map" <<'PY'
import collections, re, sys
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines)
             if l.startswith("Linker script and memory map"))
tot, pending = collections.Counter(), None
keep = re.compile(r"\.(text|rodata|data|tdata|data\.rel\.ro|eh_frame|"
                  r"gcc_except_table)")
for l in lines[start:]:
    m = re.match(r"^ (\.\S+)\s*$", l)
    if m:
        pending = m.group(1)
        continue
    m = re.match(r"^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", l)
    if not m:
        continue
    name, pending = m.group(1) or pending, None
    if not name or not keep.match(name):
        continue
    lib = re.search(r"([^/()\s]+\.a)\(", m.group(4))
    tot[lib.group(1) if lib else "other objects"] += int(m.group(3), 16)
ours = sum(v for k, v in tot.items() if k.startswith("lib") and k[3:-2] in
           ("port_posix", "core", "sip", "registrar", "offline", "message",
            "presence", "imc", "app", "storage"))
print(f"{'simpled (firmware, port, storage)':36} {ours:>9}")
for k, v in tot.most_common():
    if k[3:-2] not in ("port_posix", "core", "sip", "registrar", "offline",
                       "message", "presence", "imc", "app", "storage"):
        print(f"{k:36} {v:>9}")
PY
