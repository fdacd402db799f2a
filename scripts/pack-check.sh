#!/usr/bin/env bash
# Install-one-layer check: packs each package and installs the tarballs with plain npm into fresh
# temporary projects, as a user would, then imports them under ESM and require(), typechecks a
# consumer with module NodeNext, and lints each manifest with publint. Needs a prior build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

pnpm_cmd=(pnpm)
[ "$(pnpm -v 2>/dev/null)" = "10.34.9" ] || pnpm_cmd=(npx -y pnpm@10.34.9)

mkdir -p "$work/tarballs"
for pkg in framing ns rpc cluster cli; do
  (cd "$root/packages/$pkg" && "${pnpm_cmd[@]}" pack --pack-destination "$work/tarballs" >/dev/null)
  (cd "$root/packages/$pkg" && node "$root/node_modules/publint/src/cli.js" --strict .) || { echo "publint failed for $pkg"; exit 1; }
  tar -tzf "$(ls "$work/tarballs"/proto-"$pkg"-*.tgz)" | grep -x 'package/LICENSE' >/dev/null || { echo "the $pkg tarball has no LICENSE"; exit 1; }
done
tgz() { ls "$work/tarballs"/proto-"$1"-*.tgz; }

check() { # name, tarballs..., then "--" then the import names
  local name=$1; shift
  local tarballs=(); while [ "$1" != "--" ]; do tarballs+=("$1"); shift; done; shift
  local dir="$work/$name"
  mkdir -p "$dir" && cd "$dir"
  printf '{ "name": "consumer-%s", "private": true, "type": "module" }\n' "$name" > package.json
  npm install --no-package-lock --silent "${tarballs[@]}" @types/node@20.19.25 >/dev/null
  for mod in "$@"; do
    node --input-type=module -e "const m = await import('$mod'); if (!Object.keys(m).length) throw new Error('empty');"
    node --input-type=commonjs -e "const m = require('$mod'); if (!Object.keys(m).length) throw new Error('empty');"
    printf "import * as m from '%s';\nexport const names: string[] = Object.keys(m);\n" "$mod" > "consumer-${mod//\//-}.ts"
  done
  cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2023",
  "strict": true, "noEmit": true, "types": ["node"], "skipLibCheck": false }, "include": ["*.ts"] }
JSON
  node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json
  echo "ok $name: installed with npm, imported (ESM + require), typechecked under NodeNext"
}

check framing-alone "$(tgz framing)" -- @proto/framing @proto/framing/internal
for dep in eventemitter2 zod; do
  if [ -d "$work/framing-alone/node_modules/$dep" ]; then echo "framing alone pulled in $dep"; exit 1; fi
done
check ns-alone "$(tgz framing)" "$(tgz ns)" -- @proto/ns @proto/ns/internal
[ -d "$work/ns-alone/node_modules/zod" ] && { echo "ns alone pulled in zod"; exit 1; }
check rpc "$(tgz framing)" "$(tgz ns)" "$(tgz rpc)" -- @proto/rpc
# cluster alone: its tarball and the layers below; @redis/client comes from the registry.
check cluster-alone "$(tgz framing)" "$(tgz ns)" "$(tgz rpc)" "$(tgz cluster)" -- @proto/cluster
[ -d "$work/cluster-alone/node_modules/@redis/client" ] || { echo "cluster alone did not pull in @redis/client"; exit 1; }
check cli "$(tgz framing)" "$(tgz ns)" "$(tgz rpc)" "$(tgz cli)" -- @proto/cli
# The installed `proto` bin, as a user runs it: serve in the background, call it, Ctrl+C it.
(
  cd "$work/cli"
  export PROTO_PASSWORD=pack-check
  ./node_modules/.bin/proto serve --port 0 --json >serve.out 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q '"listening"' serve.out && break; sleep 0.1; done
  port=$(node -e 'const l = require("fs").readFileSync("serve.out", "utf8").split("\n").find((x) => x.includes("listening")); console.log(JSON.parse(l).port)')
  sum=$(./node_modules/.bin/proto call "127.0.0.1:$port" math::add '{"a":1,"b":2}')
  kill -INT "$pid"; wait "$pid"; rc=$?
  [ "$sum" = 3 ] && [ "$rc" -eq 0 ] || { echo "installed proto bin failed (sum=$sum, serve exit $rc)"; cat serve.out; exit 1; }
  echo "ok cli: the installed proto bin served and called math::add"
)
echo "pack check passed"
