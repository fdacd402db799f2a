#!/usr/bin/env bash
# Runs the demo and every example non-interactively, each under `timeout 30`, and fails if any of
# them exits non-zero (or hangs). Run from anywhere after an install:
#   bash scripts/examples-smoke.sh
# Ends with the line "examples: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# The same runner as the root scripts (tsx from the workspace, TypeScript sources via the
# @proto/source export condition); word-split on purpose below.
if [ -x node_modules/.bin/tsx ]; then TSX="node_modules/.bin/tsx"; else TSX="npx -y tsx@4.23.15"; fi
export TSX="$TSX --conditions=@proto/source"
LIMIT=30
passed=0
failed=()
log_dir=$(mktemp -d)
export log_dir
trap 'rm -rf "$log_dir"' EXIT

run() { # name command...
  local name=$1; shift
  local log="$log_dir/$name.log" start=$SECONDS rc
  timeout "$LIMIT" "$@" >"$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "ok    $name ($((SECONDS - start)) s)"
  else
    failed+=("$name")
    if [ "$rc" -eq 124 ]; then echo "FAIL  $name (timed out after $LIMIT s)"; else echo "FAIL  $name (exit $rc)"; fi
    sed 's/^/      | /' "$log"
  fi
}

# Two processes, like two terminals: a chat server and a client fed from a pipe.
chat_two_processes() {
  local port=$((20000 + RANDOM % 20000)) server_log="$log_dir/chat-server.out" server_pid out
  $TSX examples/ns-chat/server.ts --port "$port" >"$server_log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q 'chat server on' "$server_log" && break; sleep 0.1; done
  # Type one line, keep stdin open until the server's broadcast of it comes back (at most 10 s),
  # then close stdin like Ctrl+D: the client ends by itself.
  local client_log="$log_dir/chat-client.out"
  {
    echo 'hello from the smoke test'
    for _ in $(seq 1 100); do grep -q 'smoke: hello' "$client_log" 2>/dev/null && break; sleep 0.1; done
  } | $TSX examples/ns-chat/client.ts --name smoke --port "$port" >"$client_log" 2>&1
  out=$(cat "$client_log")
  # Ctrl+C, as a user would; the server closes gracefully (forced after 3 s).
  kill -INT "$server_pid" 2>/dev/null
  for _ in $(seq 1 30); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null
  echo "$out"; echo '--- server:'; cat "$server_log"
  grep -q 'smoke: hello from the smoke test' <<<"$out" && grep -q 'smoke: hello from the smoke test' "$server_log"
}
export -f chat_two_processes

# proto serve + proto call/stream/describe, two processes like the root README's two terminals.
cli_serve_call() {
  local log="$log_dir/proto-serve.out" pid port sum methods rc
  PROTO_PASSWORD=smoke $TSX packages/cli/src/bin.ts serve --port 0 --json >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q '"listening"' "$log" && break; sleep 0.1; done
  port=$(sed -n 's/.*"event":"listening".*"port":\([0-9]*\).*/\1/p' "$log")
  sum=$(PROTO_PASSWORD=smoke $TSX packages/cli/src/bin.ts call "127.0.0.1:$port" math::add '{"a":1,"b":2}')
  methods=$(PROTO_PASSWORD=smoke $TSX packages/cli/src/bin.ts describe "127.0.0.1:$port")
  items=$(PROTO_PASSWORD=smoke $TSX packages/cli/src/bin.ts stream "127.0.0.1:$port" count::up '{"n":3}' | tr '\n' ' ')
  kill -INT "$pid" 2>/dev/null; wait "$pid"; rc=$?
  echo "call: $sum"; echo "stream: $items"; echo "$methods"; echo '--- serve:'; cat "$log"
  [ "$sum" = 3 ] && [ "$items" = '1 2 3 ' ] && grep -q 'math::add' <<<"$methods" && [ "$rc" -eq 0 ]
}
export -f cli_serve_call

run demo $TSX examples/demo.ts
run framing-echo $TSX examples/framing-echo/echo.ts
run ns-chat-self-test $TSX examples/ns-chat/self-test.ts
run ns-chat-two-processes bash -c chat_two_processes
run rpc-calculator $TSX examples/rpc-calculator/calculator.ts
run rpc-stream $TSX examples/rpc-stream/log-tail.ts
if command -v openssl >/dev/null; then
  run mtls bash -c 'bash examples/mtls/make-certs.sh && $TSX examples/mtls/mtls.ts'
else
  failed+=(mtls)
  echo "FAIL  mtls (openssl is needed to make its certificates)"
fi
run unix-socket $TSX examples/unix-socket/unix.ts
run cluster $TSX examples/cluster/cluster.ts
run ns-resume $TSX examples/ns-resume/resume.ts
run cli-serve-call bash -c cli_serve_call
# The root README's quick starts, so the code shown there keeps working.
for layer in framing ns rpc; do run "quickstart-$layer" $TSX "examples/quickstart/$layer.ts"; done

echo "examples: $passed passed, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}"
[ "${#failed[@]}" -eq 0 ]
