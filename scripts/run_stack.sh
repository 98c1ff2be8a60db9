#!/usr/bin/env bash
# Starts the collector and the API as two processes, like the two containers.
# Ctrl-C stops both. With --demo: against the bundled KAMO simulator, into data/demo.db.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

if [ "${1:-}" = "--demo" ]; then
  sim_port=${SIM_PORT:-8099}
  sim_seed=${DEMO_SEED:-1}
  $PY scripts/kamo_simulator.py --port "$sim_port" --seed "$sim_seed" --quiet &
  pids+=($!)
  export KAMO_BASE_URL="http://127.0.0.1:$sim_port/api"
  export DATABASE_URL="${DEMO_DATABASE_URL:-sqlite:///data/demo.db}"
  export DATA_DIR="${DEMO_DATA_DIR:-data/demo}"
  export POLL_INTERVAL_MINUTES="${DEMO_POLL_INTERVAL_MINUTES:-1}"
  echo "demo: simulator on $KAMO_BASE_URL, database $DATABASE_URL, a poll every $POLL_INTERVAL_MINUTES min"
  # 30 days of simulated history from the simulator's model, once (a marker in the database).
  $PY scripts/seed_demo.py --seed "$sim_seed"
fi

$PY -m collector &
pids+=($!)
.venv/bin/gunicorn -c api/gunicorn.conf.py "api:create_app()" &
pids+=($!)
echo "API and dashboard on http://localhost:${PORT:-8080} (Ctrl-C stops both)"
wait -n "${pids[@]}"
