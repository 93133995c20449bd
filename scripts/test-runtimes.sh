#!/usr/bin/env bash
# npm run test:runtimes [-- 22 24 | system]
#
# Proves the package on Node.js lines other than the machine's: for each major version, a copy of
# the working tree's files (tracked, plus untracked ones that .gitignore does not exclude, so
# uncommitted work is tested too) is installed with `npm ci` under that Node, better-sqlite3 built
# from source against that Node's own headers, then the test suite, `npm run demo`, the build and a
# CommonJS require() of the package are run under it. One `runtime: …` line per version, then one
# `runtimes: …` summary line; exits non-zero if any version failed.
#
# Where the Node comes from: `npx -p node@N` (the npm registry's `node` package) names the newest
# N.x; the binary and its headers come from `node-<platform>-<arch>@<that version>`, the registry
# package that `node` itself installs (it ships bin/node and include/node; node-gyp needs the
# headers, and nodejs.org is not reachable). Neither ships npm: the machine's npm (its npm-cli.js)
# is run by that Node, and that is checked.
#
# Known issue, checked on every version (`sqlite-gc=`): better-sqlite3 12 derives its Statement
# from node::ObjectWrap, whose header-only code in Node >= 24.19's node_object_wrap.h registers an
# environment cleanup hook; built against those headers, the addon aborts the process
# ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook) when V8 finalizes a
# Statement outside a JS context (nodejs/node#65446). A small probe (open, prepare, close, 2000
# times) shows it in a second. On a line listed in SAFE_HEADERS the abort is expected: it is
# reported, better-sqlite3 is rebuilt against that line's last headers without the change, the probe
# must then pass, and the suite runs on that build. Anywhere else the abort fails the run; and if
# it no longer happens on a listed line, the line says so (time to update README and engines).
#
# `system` instead of a version runs the same steps with the machine's own node (and its nodedir).
# Environment: RUNTIMES_TESTS="test/store test/olm" runs those vitest filters instead of the whole
# suite; RUNTIMES_SOURCE=head copies `git archive HEAD` instead of the working tree;
# RUNTIMES_KEEP=1 keeps the temporary directory (its path is printed).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
if [ "$#" -gt 0 ]; then VERSIONS=("$@"); else VERSIONS=(22 24); fi
read -r -a TESTS <<<"${RUNTIMES_TESTS:-}"
SOURCE=${RUNTIMES_SOURCE:-worktree}

NPM_CLI=$(readlink -f "$(command -v npm)")
case "$NPM_CLI" in
*/npm-cli.js) ;;
*) NPM_CLI="$(npm root -g)/npm/bin/npm-cli.js" ;;
esac
[ -f "$NPM_CLI" ] || {
  echo "runtimes: cannot find npm-cli.js (tried $NPM_CLI)" >&2
  exit 2
}
# Node line -> the newest release of it whose headers do not have the ObjectWrap cleanup hooks.
declare -A SAFE_HEADERS=([24]=24.18.1)
PLATFORM_PKG=$(node -p '`${process.platform === "darwin" && process.arch === "arm64" ? "node-bin" : "node"}-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-runtimes.XXXXXX")
cleanup() {
  if [ "${RUNTIMES_KEEP:-}" = 1 ]; then
    echo "runtimes: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints the last lines of a log to stderr, so a failure in CI shows why before the copy is removed.
show_tail() {
  echo "---- $1 (last ${3:-40} lines of $2) ----" >&2
  tail -n "${3:-40}" "$2" | sed 's/\x1b\[[0-9;]*m//g' >&2
  echo "----" >&2
}

# fetch_node VERSION DEST: the registry's node-<platform>-<arch> package (bin/node, include/node).
fetch_node() {
  mkdir -p "$2" &&
    (cd "$2" && npm pack --silent "$PLATFORM_PKG@$1" >pack.log 2>&1 &&
      tar -xzf "$PLATFORM_PKG-$1.tgz" --strip-components=1 && rm -f "$PLATFORM_PKG-$1.tgz") &&
    [ -f "$2/include/node/node_version.h" ]
}

copy_tree() {
  local dest=$1
  mkdir -p "$dest"
  if [ "$SOURCE" = head ]; then
    git -C "$ROOT" archive --format=tar HEAD | tar -xf - -C "$dest"
  else
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$ROOT/$f" ] && printf '%s\0' "$f"; done |
      tar -C "$ROOT" --null -T - -cf - | tar -xf - -C "$dest"
  fi
}

# The CommonJS consumer: require() by the package's name (through the exports map) and of the
# built files themselves (require(esm), which the exports map does not reach).
REQUIRE_CHECK='
const out = {};
const specs = { name: "matrix-key-withholding", sqlite: "matrix-key-withholding/sqlite",
  dist: "./dist/index.js", distSqlite: "./dist/sqlite.js" };
for (const [key, spec] of Object.entries(specs)) {
  try {
    const names = Object.keys(require(spec)).length;
    out[key] = names > 0 ? "ok" : "empty";
  } catch (e) {
    out[key] = `refused: ${e.code ?? e.name}`;
    console.error(`${spec}: ${e.code ?? e.name}: ${String(e.message).split("\n")[0]}`);
  }
}
console.log(JSON.stringify(out));
'

# Orphaned Statements (their database closed) finalized by a later GC: aborts where the addon was
# built against Node >= 24.19 headers (see the top of this file), survives elsewhere.
SQLITE_GC_PROBE='
const Database = require("better-sqlite3");
for (let i = 0; i < 2000; i++) {
  const db = new Database(":memory:");
  db.prepare("select 1").get();
  db.close();
}
console.log("survived");
'

TOTAL_PASSED=0
TOTAL_TESTS=0
FAILED_VERSIONS=()
OK_VERSIONS=()

# One version, in a subshell so PATH and npm_config_* do not leak. Writes its `runtime:` line to
# $dir/line and returns non-zero on failure.
run_version() (
  local want=$1 dir=$2
  local node version nodedir="" npm_version major
  local failures=() t0=$SECONDS t
  local install_s=0 tests_s=0 demo_s=0 build_s=0
  local tests_field="tests=not-run" files_field="files=0" demo="not-run" req="not-run" reqdist="not-run"
  local sqlite_gc="not-run"
  mkdir -p "$dir"
  finish() {
    local status=ok
    [ "${#failures[@]}" -gt 0 ] && status="FAILED(${failures[*]})"
    echo "runtime: node=${version:-$want} npm=${npm_version:-?} $tests_field $files_field demo=$demo require=$req require-dist=$reqdist sqlite-gc=$sqlite_gc seconds=$((SECONDS - t0)) steps=install:${install_s},tests:${tests_s},demo:${demo_s},build:${build_s} status=$status" >"$dir/line"
    [ "${#failures[@]}" -eq 0 ]
  }

  if [ "$want" = system ]; then
    node=$(command -v node)
    version=$("$node" --version)
  else
    # The newest $want.x, as the npm registry's `node` package names it.
    version=$(npx -y -p "node@$want" node --version 2>"$dir/resolve.log") || {
      show_tail "resolving node@$want" "$dir/resolve.log"
      failures+=(resolve)
      finish
      return
    }
    if ! fetch_node "${version#v}" "$dir/node"; then
      show_tail "fetching $PLATFORM_PKG@${version#v}" "$dir/node/pack.log"
      failures+=(fetch)
      finish
      return
    fi
    node=$dir/node/bin/node
    nodedir=$dir/node
    [ "$("$node" --version)" = "$version" ] || {
      echo "runtimes: $node is not $version" >&2
      failures+=(binary)
      finish
      return
    }
  fi
  major=${version#v}
  major=${major%%.*}

  export PATH="$(dirname "$node"):$PATH"
  [ -n "$nodedir" ] && export npm_config_nodedir=$nodedir
  npm_() { "$node" "$NPM_CLI" "$@"; }

  copy_tree "$dir/repo"
  cd "$dir/repo" || return 1

  # npm itself, and the `node` its scripts get, must be this Node.
  npm_version=$(npm_ --version)
  local npm_node script_node
  npm_node=$(npm_ version --json | "$node" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("v"+JSON.parse(s).node))')
  script_node=$(npm_ exec --offline -c 'node --version')
  if [ "$npm_node" != "$version" ] || [ "$script_node" != "$version" ]; then
    echo "runtimes: npm runs under $npm_node, its scripts under $script_node, not $version" >&2
    failures+=(npm-node)
    finish
    return
  fi

  t=$SECONDS
  if ! npm_config_build_from_source=better-sqlite3 npm_ ci >"$dir/install.log" 2>&1; then
    install_s=$((SECONDS - t))
    show_tail "npm ci under $version" "$dir/install.log"
    failures+=(install)
    finish
    return
  fi
  # better-sqlite3 must have been compiled here (no prebuilt binary), for this Node's ABI.
  if [ ! -d node_modules/better-sqlite3/build/Release/obj.target ] ||
    ! "$node" -e 'const D = require("better-sqlite3"); new D(":memory:").prepare("select 1").get();' 2>"$dir/sqlite.log"; then
    show_tail "better-sqlite3 under $version" "$dir/sqlite.log"
    failures+=(sqlite)
  fi
  printf '%s' "$SQLITE_GC_PROBE" >.runtimes-sqlite-gc.cjs
  local probe_rc
  # In a subshell that outlives it, so the abort is reported to the log, not to this script's stderr.
  ("$node" .runtimes-sqlite-gc.cjs; exit $?) >"$dir/probe.log" 2>&1
  probe_rc=$?
  local safe=${SAFE_HEADERS[$major]:-}
  if [ "$probe_rc" -eq 0 ]; then
    sqlite_gc=ok
    [ -n "$safe" ] && sqlite_gc="ok(known-issue-gone:update-README-and-SAFE_HEADERS)"
  elif [ -z "$safe" ] || ! grep -q "RemoveEnvironmentCleanupHook" "$dir/probe.log"; then
    sqlite_gc="abort(exit:$probe_rc)"
    failures+=(sqlite-gc)
    show_tail "better-sqlite3 GC probe under $version" "$dir/probe.log"
  else
    # The known abort: rebuild against the line's last headers without the change, then prove it.
    if fetch_node "$safe" "$dir/headers-$safe" &&
      npm_config_nodedir="$dir/headers-$safe" npm_config_build_from_source=better-sqlite3 \
        npm_ rebuild better-sqlite3 >"$dir/rebuild.log" 2>&1 &&
      grep -q "\"nodedir\": \"$dir/headers-$safe\"" node_modules/better-sqlite3/build/config.gypi &&
      "$node" .runtimes-sqlite-gc.cjs >"$dir/probe2.log" 2>&1; then
      sqlite_gc="abort(node#65446)->rebuilt-with-$safe-headers:ok"
    else
      sqlite_gc="abort(node#65446)->rebuilt-with-$safe-headers:FAILED"
      failures+=(sqlite-gc)
      show_tail "rebuild of better-sqlite3 against $safe headers" "$dir/rebuild.log"
      [ -f "$dir/probe2.log" ] && show_tail "GC probe after the rebuild" "$dir/probe2.log"
    fi
  fi
  install_s=$((SECONDS - t))

  t=$SECONDS
  # The Node project only: the browser project's tests run in Chromium, the same whichever Node
  # serves them, and `npm test` has already run them once.
  "$node" node_modules/vitest/vitest.mjs run --project node "${TESTS[@]}" --reporter=default --reporter=json \
    --outputFile.json="$dir/vitest.json" >"$dir/tests.log" 2>&1
  local vitest_rc=$?
  tests_s=$((SECONDS - t))
  local counts
  # Counted from each test's own status: the JSON's totals call a test whose worker died neither
  # failed nor pending, and its `success` ignores unhandled errors.
  if counts=$("$node" -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const rel = (f) => f.name.replace(process.cwd() + "/", "");
      const tests = r.testResults.flatMap((f) => f.assertionResults.map((a) => ({ ...a, file: rel(f) })));
      const n = (s) => tests.filter((a) => a.status === s).length;
      const brokenFiles = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed"));
      for (const f of brokenFiles) console.error(`  ${rel(f)}: ${String(f.message).split("\n")[0]}`);
      for (const a of tests.filter((a) => a.status === "failed").slice(0, 30)) console.error(`  ${a.file} > ${a.fullName}`);
      const notRun = tests.filter((a) => a.status !== "passed" && a.status !== "failed" && a.status !== "skipped" && a.status !== "todo");
      const notRunFiles = [...new Set(notRun.map((a) => a.file))];
      if (notRun.length > 0) console.error(`  not run (${notRun.length}): ${notRunFiles.join(", ")}`);
      console.log(n("passed"), tests.length, r.testResults.length, n("failed") + brokenFiles.length, n("skipped") + n("todo"), notRun.length);
    ' "$dir/vitest.json" 2>"$dir/failed.txt"); then
    local passed total files failed skipped notrun errors
    read -r passed total files failed skipped notrun <<<"$counts"
    errors=$(sed 's/\x1b\[[0-9;]*m//g' "$dir/tests.log" | sed -n 's/^ *Errors  *\([0-9][0-9]*\) error.*/\1/p' | tail -1)
    tests_field="tests=$passed/$total"
    local extra=()
    [ "$failed" -gt 0 ] && extra+=("failed:$failed")
    [ "$skipped" -gt 0 ] && extra+=("skipped:$skipped")
    [ "$notrun" -gt 0 ] && extra+=("not-run:$notrun")
    [ -n "$errors" ] && extra+=("errors:$errors")
    [ "${#extra[@]}" -gt 0 ] && tests_field="$tests_field($(
      IFS=,
      echo "${extra[*]}"
    ))"
    files_field="files=$files"
    echo "$passed $total" >"$dir/counts"
    if [ "$failed" -gt 0 ] || [ "$notrun" -gt 0 ] || [ -n "$errors" ] || [ "$vitest_rc" -ne 0 ] || [ "$total" -eq 0 ]; then
      failures+=(tests)
      if [ -s "$dir/failed.txt" ]; then
        echo "---- failed tests under $version ----" >&2
        cat "$dir/failed.txt" >&2
      fi
      show_tail "vitest under $version" "$dir/tests.log" 15
    fi
  else
    tests_field="tests=error"
    failures+=(tests)
    show_tail "vitest under $version" "$dir/tests.log"
  fi

  t=$SECONDS
  if npm_ run demo >"$dir/demo.log" 2>&1; then
    demo=ok
  else
    demo="failed(exit:$?)"
    failures+=(demo)
    show_tail "npm run demo under $version" "$dir/demo.log"
  fi
  demo_s=$((SECONDS - t))

  t=$SECONDS
  if "$node" node_modules/typescript/bin/tsc -p tsconfig.build.json >"$dir/build.log" 2>&1; then
    local answers
    printf '%s' "$REQUIRE_CHECK" >.runtimes-require.cjs
    if answers=$("$node" .runtimes-require.cjs 2>"$dir/require.log"); then
      req=$("$node" -p 'const a = JSON.parse(process.argv[1]); a.name === a.sqlite ? a.name : `${a.name}; ./sqlite ${a.sqlite}`' "$answers")
      reqdist=$("$node" -p 'const a = JSON.parse(process.argv[1]); a.dist === a.distSqlite ? a.dist : `${a.dist}; dist/sqlite.js ${a.distSqlite}`' "$answers")
    else
      req=error
      failures+=(require-check)
      show_tail "require() check under $version" "$dir/require.log"
    fi
  else
    req=not-built
    failures+=(build)
    show_tail "tsc -p tsconfig.build.json under $version" "$dir/build.log"
  fi
  build_s=$((SECONDS - t))

  finish
)

T0=$SECONDS
i=0
for want in "${VERSIONS[@]}"; do
  i=$((i + 1))
  dir="$WORK/$i-$want"
  if run_version "$want" "$dir"; then ok=1; else ok=0; fi
  line=$(cat "$dir/line" 2>/dev/null || echo "runtime: node=$want status=FAILED(script)")
  echo "$line"
  version=$(sed -n 's/^runtime: node=\([^ ]*\).*/\1/p' <<<"$line")
  if [ "$ok" = 1 ]; then OK_VERSIONS+=("$version"); else FAILED_VERSIONS+=("$version"); fi
  if [ -f "$dir/counts" ]; then
    read -r p t <"$dir/counts"
    TOTAL_PASSED=$((TOTAL_PASSED + p))
    TOTAL_TESTS=$((TOTAL_TESTS + t))
  fi
  # Each copy holds a full node_modules: free the disk before the next one.
  [ "${RUNTIMES_KEEP:-}" = 1 ] || rm -rf "$dir"
done

join() {
  local IFS=,
  echo "${*:-none}"
}
if [ "${#FAILED_VERSIONS[@]}" -eq 0 ]; then
  echo "runtimes: ok node=$(join "${OK_VERSIONS[@]}") tests=$TOTAL_PASSED/$TOTAL_TESTS seconds=$((SECONDS - T0))"
else
  echo "runtimes: FAILED node=$(join "${FAILED_VERSIONS[@]}") ok=$(join "${OK_VERSIONS[@]}") tests=$TOTAL_PASSED/$TOTAL_TESTS seconds=$((SECONDS - T0))"
  exit 1
fi
