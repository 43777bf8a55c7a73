#!/usr/bin/env bash
# Why the agent uses ASM and not Byte Buddy at run time: the same call-site rewrite of sun.nio.ch.Net (socket0 ->
# Handlers.socket0) in a fresh JVM, with ASM and with Byte Buddy's MemberSubstitution, against a JVM that only reads
# the class bytes. Prints jar sizes, then per JDK the median wall time and peak RSS of N interleaved runs.
# Usage: bench/deps/run.sh [N]   (default 10; about 1 s per run on 2 cores)
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-10}
m2=${MAVEN_REPO:-$HOME/.m2/repository}
asm=$m2/org/ow2/asm/asm/9.9.1/asm-9.9.1.jar
bb=$m2/net/bytebuddy/byte-buddy/1.18.12/byte-buddy-1.18.12.jar
for j in "$asm" "$bb"; do [ -f "$j" ] || { echo "missing $j (mvn dependency:get -Dartifact=...)" >&2; exit 1; }; done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
javac -d "$out" -cp "$asm:$bb" src/*.java
printf 'jar sizes: asm-9.9.1.jar %s bytes, byte-buddy-1.18.12.jar %s bytes\n' "$(stat -c %s "$asm")" "$(stat -c %s "$bb")"
for java in "${JAVA17:-java}" "${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"; do
  ver=$("$java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.runtime.version/{print $2}')
  declare -A wall=() rss=()
  for ((i = 0; i < n; i++)); do
    for v in none asm bytebuddy; do
      case $v in
        none) cp="$out"; main=Bytes ;;
        asm) cp="$out:$asm"; main=RewriteAsm ;;
        bytebuddy) cp="$out:$bb"; main=RewriteByteBuddy ;;
      esac
      r=$( { /usr/bin/time -f '%e %M' "$java" -Xshare:auto -cp "$cp" "$main" >/dev/null; } 2>&1 | tail -1)
      wall[$v]+="${r%% *} "; rss[$v]+="${r##* } "
    done
  done
  med() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
  for v in none asm bytebuddy; do
    printf '%-8s %-10s wall %5.0f ms  peak RSS %5.1f MiB\n' "$ver" "$v" "$(echo "${wall[$v]}" | med | awk '{print $1*1000}')" \
      "$(echo "${rss[$v]}" | med | awk '{print $1/1024}')"
  done
  unset wall rss
done
