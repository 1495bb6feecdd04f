# A throwaway PostgreSQL cluster in a temporary folder, on 127.0.0.1 only;
# sets COUNTERPLAN_TEST_POSTGRES for the web tests.  Sourced by .ci/run.

start_postgres() {
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    port=${COUNTERPLAN_PG_PORT:-55432}
    PG_HOME=$(mktemp -d)
    PG_AS=()
    if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
        chown postgres "$PG_HOME"
        PG_AS=(runuser -u postgres --)
    fi
    "${PG_AS[@]}" "$bin/initdb" -D "$PG_HOME/data" -U counterplan --auth=trust >/dev/null
    "${PG_AS[@]}" "$bin/pg_ctl" -D "$PG_HOME/data" -l "$PG_HOME/log" -w \
        -o "-p $port -k $PG_HOME -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    PG_BIN=$bin
    export COUNTERPLAN_TEST_POSTGRES="postgresql://counterplan@127.0.0.1:$port/postgres"
}

stop_postgres() {
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -m fast stop >/dev/null || true
    rm -rf "$PG_HOME"
}
