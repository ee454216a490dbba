#!/usr/bin/env bash
# Runs one emulator command as the leader of its own process group and tears the whole group down
# when the process that launched it dies — even by SIGKILL, when no exit handler of the parent runs.
# The emulator wrappers fork a JVM instead of exec'ing it, so killing only the direct child leaks Java.
# usage: supervise.sh PARENT_PID COMMAND [ARGS...]
parent="$1"
shift
"$@" &
child=$!
cleanup() {
  trap - TERM INT EXIT
  kill -TERM -- -$$ 2>/dev/null
}
trap cleanup TERM INT EXIT
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
  sleep 0.5
done
