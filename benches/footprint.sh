#!/usr/bin/env bash
# Scale in one process and footprint, for BENCHMARKS.md: a 1,000-app simulated deploy
# at --parallelism 256 (wall time, peak RSS, peak open sockets), the release binary's size, cold start, and the
# RSS of a single-app simulated validate. `bash benches/footprint.sh` from the repository
# root; it builds the release binary first. RUNS (default 5) runs of each; medians and ranges.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-5}
cargo build --release --locked --bin executor --quiet
BIN=$PWD/target/release/executor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The example environment, with a random 1,000-node DAG (the dag_plan benchmark's generator).
mkdir -p "$work/config"
cp examples/config/environment.yaml "$work/config/"
cargo bench --locked --quiet --bench dag_plan -- --emit 1000 >"$work/config/dag.yaml"
env_name=$(sed -n -E 's/^name:[[:space:]]*([^#[:space:]]+).*/\1/p' examples/config/environment.yaml | head -n 1)

stats() { # median and range of the numbers on stdin
    sort -n | awk '{v[NR]=$1} END {printf "median %s (range %s to %s, %d runs)", v[int((NR+1)/2)], v[1], v[NR], NR}'
}

# Runs a command under /usr/bin/time, sampling its open sockets every 20 ms; prints
# "<wall s> <peak RSS KiB> <peak sockets> <exit>".
measure() {
    local out=$work/time.txt peak=0 n pid rc=0
    /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        for child in $(pgrep -P "$pid" || true); do
            n=$(find "/proc/$child/fd" -lname 'socket:*' 2>/dev/null | wc -l)
            ((n > peak)) && peak=$n
        done
        sleep 0.02
    done
    wait "$pid" || rc=$?
    printf '%s %s %s\n' "$(cat "$out" | tail -n 1)" "$peak" "$rc"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "binary: $(stat -c %s "$BIN" | awk '{printf "%.1f MiB", $1/1048576}') (release, stripped)"

: >"$work/cold"
for _ in $(seq 20); do
    start=$(date +%s%N); "$BIN" --version >/dev/null; end=$(date +%s%N)
    echo "scale=1; ($end - $start) / 1000000" | bc >>"$work/cold"
done
echo "cold start (executor --version), ms: $(stats <"$work/cold")"

: >"$work/wall"; : >"$work/rss"; : >"$work/sockets"
for _ in $(seq "$RUNS"); do
    read -r wall rss sockets rc < <(measure "$BIN" deploy --simulate --environment "$env_name" \
        --config-dir "$work/config" --output-dir "$work/out" --scope platform --log-format json \
        --parallelism 256)
    [[ $rc -eq 0 ]] || { echo "the 1,000-app deploy exited $rc" >&2; exit 1; }
    echo "$wall" >>"$work/wall"; echo $((rss / 1024)) >>"$work/rss"; echo "$sockets" >>"$work/sockets"
done
echo "1,000-app simulated deploy: wall s $(stats <"$work/wall")"
echo "  peak RSS MiB (executor and in-process simulator) $(stats <"$work/rss")"
echo "  peak open sockets (both ends: the simulator is in-process) $(stats <"$work/sockets")"
echo "  $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["summary"], "requests", r["metrics"]["requests"])' "$work/out/report.json")"

: >"$work/rss"
for _ in $(seq "$RUNS"); do
    read -r wall rss sockets rc < <(measure "$BIN" validate --simulate --environment "$env_name" \
        --config-dir examples/config --output-dir "$work/out1" --scope app:cert-manager --log-format json)
    echo $((rss / 1024)) >>"$work/rss"
done
echo "single-app simulated validate: peak RSS MiB $(stats <"$work/rss")"
