"""The server transport: a ClickHouse server or cluster over HTTP(S) (``http(s)://…:8123/db``).

Two clients, as for the embedded store: the writer, and a reader whose every statement carries
``readonly = 2`` (unless the server already runs this user read-only, as the
``otel_audit_auditor`` role of ``clickhouse/roles.sql`` does). Caller SQL goes through the same
query sandbox, parsed by the server's own ``parseQueryToJSON`` (ClickHouse 25.x and later); a
server without it cannot run caller SQL, and says so. On a server, access control is the second
barrier: a role without the ``FILE``/``URL``/``REMOTE`` source grants cannot run those table
functions whatever the statement.
"""

from __future__ import annotations

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from otel_audit.errors import StoreError
from otel_audit.store.base import SESSION_SETTINGS, ClientStore, missing_store, redact_dsn, store_check, store_error
from otel_audit.store.sandbox import QueryLimits

__all__ = ["ServerStore"]


class ServerStore(ClientStore):
    """An audit store on a ClickHouse server, reached over HTTP(S)."""

    def __init__(
        self, dsn: str, location: str, database: str, limits: QueryLimits | None = None, *, create: bool = True
    ) -> None:
        self.create = create  # False: the database must hold the otel-audit schema (StoreNotFoundError)
        super().__init__(dsn, "http", location, database, limits)

    def _connect(self, *, reader: bool) -> Client:
        try:
            client = self._client(self.database if reader else "default")
            if reader:
                if str(client.get_client_setting("readonly") or "0") == "0":
                    readonly = client.query("SELECT getSetting('readonly')").result_rows[0][0]
                    if int(readonly) == 0:
                        client.set_client_setting("readonly", "2")
                return client
            if not self.create:
                sql, parameters = store_check(self.database)
                row = client.query(sql, parameters=parameters).result_rows[0]
                missing = missing_store(row, self.database, f"the ClickHouse server {redact_dsn(self.location)}")
                if missing is not None:
                    client.close()
                    raise missing
            if self.database != "default":
                if self.create:
                    client.command(f"CREATE DATABASE IF NOT EXISTS `{self.database}`")
                client.close()
                client = self._client(self.database)
            return client
        except StoreError:
            raise
        except Exception as error:  # noqa: BLE001 - transport errors vary by driver
            raise store_error(error, f"cannot connect to ClickHouse at {redact_dsn(self.location)}: {error}") from None

    def _client(self, database: str) -> Client:
        return clickhouse_connect.get_client(dsn=self.location, database=database, settings=dict(SESSION_SETTINGS))
