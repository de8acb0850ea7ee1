#!/usr/bin/env bash
# The trend store lives on the perf-history branch (history/<scenario>.jsonl), checked out as a
# worktree beside the build so that it never mixes with the code.
#   history.sh record <scenario>...   append target/perf/<scenario>/latest to the history, push
#   history.sh trend <scenario>...    trend reports into target/perf/trend/<scenario>/
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:?usage: history.sh record|trend <scenario>...}
shift
worktree=${RUNNER_TEMP:-/tmp}/perf-history

checkout() {
  rm -rf "$worktree"
  git worktree prune
  if git fetch --quiet origin perf-history 2>/dev/null; then
    git worktree add --quiet --detach "$worktree" FETCH_HEAD
  else
    git worktree add --quiet --detach "$worktree"
    git -C "$worktree" checkout --quiet --orphan perf-history-new
    git -C "$worktree" rm -rf --quiet . >/dev/null
  fi
}

case "$action" in
  record)
    for attempt in 1 2 3; do
      checkout
      for s in "$@"; do
        cargo xtask perf record "target/perf/$s/latest" --history "$worktree/history"
      done
      git -C "$worktree" add history
      git -C "$worktree" -c user.name="swarmbench" -c user.email="swarmbench@users.noreply.github.com" \
        commit --quiet --allow-empty -m "perf history: $* at ${GITHUB_SHA:-$(git rev-parse HEAD)}"
      # Another run may have pushed meanwhile: start over from the new tip.
      if git -C "$worktree" push --quiet origin HEAD:refs/heads/perf-history; then exit 0; fi
      echo "push raced with another run (attempt $attempt); retrying"
    done
    exit 1
    ;;
  trend)
    checkout
    for s in "$@"; do
      cargo xtask perf trend "$s" --history "$worktree/history" --out "target/perf/trend/$s"
    done
    ;;
  *)
    echo "unknown action $action" >&2
    exit 2
    ;;
esac
