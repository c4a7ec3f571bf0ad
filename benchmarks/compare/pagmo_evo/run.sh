#!/usr/bin/env bash
# Builds the nat-vs-pagmo comparison against the installed pagmo and this checkout's include/, then
# runs it. Usage: benchmarks/compare/pagmo_evo/run.sh [build-dir] [repeats]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${TMPDIR:-/tmp}/nat_pagmo_evo_build}
repeats=${2:-7}
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 >/dev/null
"$build/compare_pagmo_evo" "$repeats"
