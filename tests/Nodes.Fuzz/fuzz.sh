#!/usr/bin/env bash
# Coverage-guided fuzzing of Nodes' entry points with SharpFuzz and afl-fuzz (Debian package afl++).
#   tests/Nodes.Fuzz/fuzz.sh [SECONDS] [TARGET...]   each target (default: all) for SECONDS (default 60)
# Publishes the targets, instruments Nodes' assemblies (and YamlDotNet, which the loader drives) with the sharpfuzz
# tool, seeds afl-fuzz from corpus/TARGET, and prints one line per target: executions, paths, crashes, hangs.
# Exit code 1 when any target crashed or hung: reproduce with dotnet run --project tests/Nodes.Fuzz -- TARGET FILE
# (the build without instrumentation; the instrumented one runs only under afl-fuzz).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
out=${FUZZ_OUT:-${TMPDIR:-/tmp}/nodes-fuzz}
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }

rm -rf "$out"
dotnet publish Nodes.Fuzz.csproj -c Release -o "$out/bin" --nologo -v q
dotnet tool restore >/dev/null
for dll in Nodes.Wire Nodes.Crypto Nodes.Esp Nodes.Net Nodes.Ike Nodes.Gateway Nodes.Topology YamlDotNet; do
  dotnet sharpfuzz "$out/bin/$dll.dll" >/dev/null
done
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(dotnet "$out/bin/nodes-fuzz.dll" list | awk '{print $1}'); fi

# dotnet is not afl-instrumented (the assemblies are), the machine is shared (no CPU pinning), and a core dump
# handler outside our control must not stop the run.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
failed=0
mkdir -p "$out/findings"
for t in "${targets[@]}"; do
  afl-fuzz -i "corpus/$t" -o "$out/findings/$t" -V "$seconds" -t 5000 -m none -- dotnet "$out/bin/nodes-fuzz.dll" "$t" >"$out/$t.log" 2>&1 || {
    echo "$t: afl-fuzz failed, see $out/$t.log" >&2; tail -5 "$out/$t.log" >&2; failed=1; continue; }
  stats="$out/findings/$t/default/fuzzer_stats"
  value() { awk -F' *: *' -v k="$1" '$1 == k {print $2}' "$stats"; }
  crashes=$(value saved_crashes); hangs=$(value saved_hangs)
  printf '%-20s %10s executions %6s paths %3s crashes %3s hangs (%s s)\n' "$t" "$(value execs_done)" "$(value corpus_count)" "$crashes" "$hangs" "$(value run_time)"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    echo "  inputs: $out/findings/$t/default/crashes $out/findings/$t/default/hangs; copy each into regressions/$t/ once fixed" >&2
    failed=1
  fi
done
exit $failed
