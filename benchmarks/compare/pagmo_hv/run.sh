#!/usr/bin/env bash
# Builds the nat-vs-pagmo hypervolume comparison out of tree and runs it with interleaved,
# repeated measurements (the machine may be shared: compare medians side by side).
#   benchmarks/compare/pagmo_hv/run.sh [build-dir] [extra Google Benchmark flags]
# Needs Debian's libpagmo-dev and libbenchmark-dev. Writes <build-dir>/pagmo_hv.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../../build-pagmo-hv}
shift || true
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2
"$build/bm_pagmo_hv" --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \
  --benchmark_out="$build/pagmo_hv.json" --benchmark_out_format=json "$@"
