#!/usr/bin/env bash
# Folds what fuzzing found into the stored corpus: for each fuzz target, libFuzzer's merge keeps
# the smallest set of inputs, from the stored corpus (src/test/resources/smux/engine/fuzz/
# <Target>Inputs/<method>/) and the generated one (.cifuzz-corpus/, not committed), that reaches
# every edge they reach together, and writes it back as the stored corpus. Edges, not libFuzzer's
# finer features (-use_counters=0): the build runs every stored input twice, so it stays small;
# the generated corpus keeps the rest for the next long run.
#
# Usage, from the repository root after a fuzz run (docs/RELIABILITY.md, Fuzzing):
#   smux-engine/src/test/fuzz/merge-corpus.sh [Target ...]     (default: every *FuzzTest)
# Then review and commit src/test/resources/smux/engine/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../../.."   # smux-engine
mvn -B -ntp -q -f ../pom.xml -pl smux-engine -am test-compile -DskipTests
cp_file=$(mktemp)
mvn -B -ntp -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
# this checkout's smux-api first: the one in ~/.m2 may be another build's
classpath="target/test-classes:target/classes:../smux-api/target/classes:$(cat "$cp_file")"
rm -f "$cp_file"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=($(cd src/test/java/smux/engine/fuzz && ls *FuzzTest.java | sed 's/\.java$//'))
fi
for target in "${targets[@]}"; do
  # the target's one @FuzzTest method names its corpus directory
  method=$(grep -A3 '@FuzzTest' "src/test/java/smux/engine/fuzz/$target.java" | sed -n 's/^ *void \([A-Za-z0-9_]*\)(.*/\1/p' | head -n 1)
  stored="src/test/resources/smux/engine/fuzz/${target}Inputs/$method"
  generated=".cifuzz-corpus/smux.engine.fuzz.$target/$method"
  merged=$(mktemp -d)
  mkdir -p "$stored" "$generated"
  # same instrumentation as the fuzz execution in pom.xml, so that "coverage" means the same
  java -cp "$classpath" com.code_intelligence.jazzer.Jazzer --target_class="smux.engine.fuzz.$target" \
      --instrumentation_includes='smux.engine.**' --instrumentation_excludes='smux.engine.fuzz.**' \
      -merge=1 -use_counters=0 "$merged" "$stored" "$generated" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
  find "$stored" -type f ! -name 'crash-*' -delete   # crashes stay until they are regression tests
  cp "$merged"/* "$stored"/ 2>/dev/null || true
  rm -rf "$merged"
  echo "$target: $(find "$stored" -type f | wc -l) stored inputs in $stored"
done
