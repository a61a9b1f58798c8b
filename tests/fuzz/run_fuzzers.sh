#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer and UndefinedBehaviorSanitizer on)
# and runs each for a bounded time, seeded with valid inputs: the Node.js SDK's PutRow body
# from the wire spec, and rows and keys of every shape.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR [SECONDS per target, default 30]
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
seconds="${2:-30}"
out="$build/fuzz"
mkdir -p "$out"
cxx="clang++"
command -v ccache >/dev/null && cxx="ccache clang++"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/include" -I"$src/src" -I"$build/wire")
common=("$src/src/server/plain_buffer.cc" "$src/src/store/types.cc" "$src/src/common/status.cc"
        "$src/src/common/utf8.cc")
$cxx "${flags[@]}" -o "$out/plain_buffer_fuzz" "$src/tests/fuzz/plain_buffer_fuzz.cc" \
  "${common[@]}" -lfmt
$cxx "${flags[@]}" -o "$out/request_fuzz" "$src/tests/fuzz/request_fuzz.cc" \
  "$src/src/server/wire_convert.cc" "$build"/wire/proto/*.pb.cc "${common[@]}" -lprotobuf -lfmt

# Seeds. The Node SDK's PutRow body (section 3 of the wire spec) and its row.
body=0a0274311291017500000001030403000000706b3105060000000301000000610a19030403000000706b3205090000000001000000000000000ae8020304020000006331050a000000030500000068656c6c6f0ae203040200000063320509000000002a000000000000000aac0304020000006333050900000001000000000000f83f0a6c0304020000006334050200000002010a0809771a02080022020801
row=${body:14:290}
infkey=750000000103040200000069640501000000090a610304040000006e616d650501000000090a6209710000
for t in plain_buffer request; do
  rm -rf "$out/$t-corpus" && mkdir -p "$out/$t-corpus"
done
echo "$row" | xxd -r -p > "$out/plain_buffer-corpus/node-put-row"
echo "$infkey" | xxd -r -p > "$out/plain_buffer-corpus/node-inf-key"
(printf '\x00'; echo "$body" | xxd -r -p) > "$out/request-corpus/node-put-row"
(printf '\x03'; echo "$body" | xxd -r -p) > "$out/request-corpus/range-like"
for t in plain_buffer request; do
  echo "fuzzing $t for ${seconds}s"
  "$out/${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
    "$out/$t-corpus" 2>&1 | tail -4
done
