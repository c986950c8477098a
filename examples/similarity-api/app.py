"""A similarity API over vsim: texts are embedded inside PostgreSQL with
vsim.embed and searched with an HNSW index, so the service itself only
moves JSON in and out.

    POST /insert    {"id": optional, "description": text, "metadata": optional object}
    POST /query     {"description": text, "k": 10, "filter": optional {"label": 2}}
    POST /backfill  JSON lines {"id": "0", "embedding": [...], "description", "metadata"}
    GET  /health, GET /metrics (Prometheus text)

Run with uvicorn (app:app).  Settings come from the environment:
SIMAPI_MODEL (a model registered with vsim.create_model; required),
SIMAPI_TABLE (default items), SIMAPI_DSN (libpq connection string; empty:
the PG* variables), SIMAPI_POOL_SIZE (server connections per process,
default 4), SIMAPI_POOL_TIMEOUT (seconds to wait for a connection, default
5), SIMAPI_EF_SEARCH (hnsw.ef_search, default 40), SIMAPI_PREPARE_THRESHOLD
(executions of a statement before psycopg prepares it on that connection,
default 5; "none": never), SIMAPI_METRICS_DIR (where the worker processes
keep their counters; needed with --workers).
"""
import json
import logging
import os
import time
from typing import Any, Dict, Optional, Union

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, StrictBool, StrictFloat, StrictInt, StrictStr, conint, constr, validator
from starlette.exceptions import HTTPException

from metrics import Metrics

log = logging.getLogger("simapi")
log.setLevel(logging.INFO)
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s simapi: %(message)s"))
log.addHandler(_handler)

MODEL = os.environ["SIMAPI_MODEL"]
TABLE_NAME = os.environ.get("SIMAPI_TABLE", "items")
INDEX_NAME = TABLE_NAME + "_embedding_idx"
TABLE, INDEX = sql.Identifier(TABLE_NAME), sql.Identifier(INDEX_NAME)
FLOAT4_MAX = 3.4028234663852886e38

metrics = Metrics(os.environ.get("SIMAPI_METRICS_DIR") or None)
app = FastAPI(title="vsim similarity API")
state = {}    # "pool" and "dimensions", set at startup


# --- errors: every one is JSON {"error": ...}; database errors carry no SQL -----

class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


@app.exception_handler(ApiError)
async def api_error(request, exc):
    return JSONResponse({"error": exc.message}, status_code=exc.status)


@app.exception_handler(RequestValidationError)
async def invalid_request(request, exc):
    errors = exc.errors()
    if any(e["type"] == "value_error.jsondecode" for e in errors):
        return JSONResponse({"error": "malformed JSON"}, status_code=400)
    details = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in errors]
    return JSONResponse({"error": "invalid request", "details": details}, status_code=422)


@app.exception_handler(HTTPException)
async def http_error(request, exc):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


class database:
    """A pooled connection.  A database failure is logged here and becomes a
    generic 503 (unreachable, cancelled, timed out) or 500; a unique
    violation becomes 409 with the message `conflict`."""

    def __init__(self, conflict="conflict"):
        self.conflict = conflict

    async def __aenter__(self):
        try:
            self._cm = state["pool"].connection()
            return await self._cm.__aenter__()
        except PoolTimeout:
            log.error("no database connection within the pool timeout")
            raise ApiError(503, "database unavailable") from None

    async def __aexit__(self, kind, exc, tb):
        await self._cm.__aexit__(kind, exc, tb)
        if isinstance(exc, psycopg.errors.UniqueViolation):
            raise ApiError(409, self.conflict) from None
        if isinstance(exc, psycopg.OperationalError):
            log.error("database unavailable: %s", exc)
            raise ApiError(503, "database unavailable") from None
        if isinstance(exc, psycopg.Error):
            log.error("database error: %s", exc)
            raise ApiError(500, "internal error") from None
        return False


# --- request bodies -------------------------------------------------------------

Scalar = Union[StrictBool, StrictInt, StrictFloat, StrictStr]


def _text(v):
    if not v.strip():
        raise ValueError("must not be empty")
    if "\x00" in v:
        raise ValueError("must not contain NUL characters")
    return v


class InsertBody(BaseModel):
    id: Optional[Union[constr(strict=True, min_length=1), StrictInt]] = None
    description: StrictStr
    metadata: Dict[str, Any] = {}
    _description = validator("description", allow_reuse=True)(_text)


class QueryBody(BaseModel):
    description: StrictStr
    k: conint(strict=True, ge=1, le=1000) = 10
    filter: Optional[Dict[str, Scalar]] = None
    _description = validator("description", allow_reuse=True)(_text)


# --- statements -----------------------------------------------------------------

# The query text is embedded once, in the OFFSET 0 subquery; the LATERAL
# search sees it as a parameter, which the HNSW scan can order by.  The JSON
# of the answer is built by the server, so Python never parses the rows.
_SEARCH = """
SELECT coalesce(json_agg(json_build_object('id', n.id, 'distance', n.distance,
         'description', n.description, 'metadata', n.metadata) ORDER BY n.distance), '[]')::text
FROM (SELECT vsim.embed(%(model)s::text, %(text)s::text) AS v OFFSET 0) q
CROSS JOIN LATERAL (
  SELECT id, description, metadata, embedding <=> q.v AS distance FROM {table} {where}
  ORDER BY embedding <=> q.v LIMIT %(k)s::int) n"""
SEARCH = sql.SQL(_SEARCH).format(table=TABLE, where=sql.SQL(""))
# A filter is a jsonb containment test; hnsw.iterative_scan (set for every
# connection) keeps the scan going until k rows pass it.
SEARCH_FILTERED = sql.SQL(_SEARCH).format(table=TABLE, where=sql.SQL("WHERE metadata @> %(filter)s"))
INSERT = sql.SQL("""
INSERT INTO {table} (id, description, metadata, embedding)
VALUES (coalesce(%(id)s::text, gen_random_uuid()::text), %(text)s::text, %(metadata)s,
        vsim.embed(%(model)s::text, %(text)s::text))
RETURNING id""").format(table=TABLE)
CREATE_INDEX = sql.SQL("CREATE INDEX IF NOT EXISTS {index} ON {table} USING hnsw (embedding vector_cosine_ops)").format(
    index=INDEX, table=TABLE)


@app.on_event("startup")
async def startup():
    options = (f"-c hnsw.ef_search={int(os.environ.get('SIMAPI_EF_SEARCH', '40'))}"
               " -c hnsw.iterative_scan=relaxed_order")
    size = int(os.environ.get("SIMAPI_POOL_SIZE", "4"))
    threshold = os.environ.get("SIMAPI_PREPARE_THRESHOLD", "5")
    kwargs = {"autocommit": True, "prepare_threshold": None if threshold == "none" else int(threshold)}
    pool = AsyncConnectionPool(make_conninfo(os.environ.get("SIMAPI_DSN", ""), options=options),
                               min_size=size, max_size=size, kwargs=kwargs,
                               timeout=float(os.environ.get("SIMAPI_POOL_TIMEOUT", "5")), open=False)
    await pool.open(wait=True, timeout=30)
    state["pool"] = pool
    async with pool.connection() as conn, conn.transaction():
        # the worker processes start together: one creates the schema
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('simapi schema'))")
        row = await (await conn.execute("SELECT dimensions FROM vsim.models WHERE name = %s", [MODEL])).fetchone()
        if row is None:
            raise RuntimeError(f"model {MODEL!r} is not registered (vsim.create_model)")
        state["dimensions"] = row[0]
        await conn.execute(sql.SQL("""CREATE TABLE IF NOT EXISTS {table} (
            id text PRIMARY KEY, description text NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{{}}', embedding vector({dims}) NOT NULL)""").format(
            table=TABLE, dims=sql.Literal(row[0])))
        await conn.execute(CREATE_INDEX)
    log.info("serving model %s (%d dimensions), table %s", MODEL, row[0], TABLE_NAME)


@app.on_event("shutdown")
async def shutdown():
    await state["pool"].close()


class Observe:
    """Counts every request and its time by endpoint and status (plain ASGI:
    Starlette's BaseHTTPMiddleware costs a task and a queue per request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            metrics.observe(scope["path"].strip("/"), status, time.perf_counter() - start)


app.add_middleware(Observe)


# --- endpoints ------------------------------------------------------------------

@app.post("/insert")
async def insert(body: InsertBody):
    params = {"id": None if body.id is None else str(body.id), "text": body.description,
              "metadata": Jsonb(body.metadata), "model": MODEL}
    async with database(conflict="an item with this id exists") as conn:
        row = await (await conn.execute(INSERT, params)).fetchone()
    # committed (autocommit): the row is in the index and found by the next query
    return {"id": row[0]}


@app.post("/query")
async def query(body: QueryBody):
    params = {"text": body.description, "k": body.k, "model": MODEL}
    statement = SEARCH
    if body.filter:
        statement, params["filter"] = SEARCH_FILTERED, Jsonb(body.filter)
    async with database() as conn:
        row = await (await conn.execute(statement, params)).fetchone()
    return Response(b'{"results":' + row[0].encode() + b"}", media_type="application/json")


def parse_record(line, number, dims):
    """One JSON line of a backfill -> a row for COPY; ApiError(400) when bad."""
    def bad(message):
        return ApiError(400, f"line {number}: {message}")

    def no_constant(name):
        raise bad(f"{name} is not a number")

    try:
        r = json.loads(line, parse_constant=no_constant)
    except ValueError:
        raise bad("malformed JSON") from None
    if not isinstance(r, dict):
        raise bad("not a JSON object")
    rid, emb = r.get("id"), r.get("embedding")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or rid == "":
        raise bad('"id" must be a non-empty string or an integer')
    if not isinstance(emb, list):
        raise bad('"embedding" must be an array of numbers')
    if len(emb) != dims:
        raise bad(f"embedding has {len(emb)} dimensions, the model gives {dims}")
    for x in emb:
        # type() rather than isinstance: true and false are no numbers here
        if type(x) not in (float, int) or not -FLOAT4_MAX <= x <= FLOAT4_MAX:
            raise bad("embedding elements must be finite float4 numbers")
    description, meta = r.get("description", ""), r.get("metadata", {})
    if not isinstance(description, str) or "\x00" in description or not isinstance(meta, dict):
        raise bad('"description" must be a string and "metadata" an object')
    return (str(rid), description, json.dumps(meta), json.dumps(emb, separators=(",", ":")))


async def body_lines(request):
    """The lines of a streamed request body, numbered from 1, blank ones skipped."""
    rest, number = b"", 0
    async for chunk in request.stream():
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            number += 1
            if line.strip():
                yield number, line
    if rest.strip():
        yield number + 1, rest


@app.post("/backfill")
async def backfill(request: Request):
    """Load an empty table from JSON lines with COPY, then build the index:
    much faster than inserting row by row into a live index.  One
    transaction: on any bad line nothing is loaded."""
    dims, rows = state["dimensions"], 0
    async with database(conflict="duplicate ids in the backfill") as conn, conn.transaction():
        await conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(TABLE))
        if (await (await conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(TABLE))).fetchone())[0]:
            raise ApiError(409, "backfill needs an empty table")
        await conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(INDEX))
        copy_sql = sql.SQL("COPY {} (id, description, metadata, embedding) FROM STDIN").format(TABLE)
        bad = None
        async with conn.cursor().copy(copy_sql) as copy:
            async for number, line in body_lines(request):
                try:
                    row = parse_record(line, number, dims)
                except ApiError as e:
                    # raised here, psycopg would turn it into a failed COPY: end the
                    # COPY, then roll the transaction back with the client's error
                    bad = e
                    break
                await copy.write_row(row)
                rows += 1
        if bad:
            raise bad
        await conn.execute(CREATE_INDEX)
        await conn.execute(sql.SQL("ANALYZE {}").format(TABLE))
    return {"rows": rows}


@app.get("/health")
async def health():
    async with database() as conn:
        await conn.execute("SELECT 1")
    return {"status": "ok", "model": MODEL, "dimensions": state["dimensions"]}


@app.get("/metrics")
async def prometheus_metrics():
    gauges = []
    try:
        async with database() as conn, conn.transaction():
            # a backfill holds the table's lock until it commits: skip the gauges then
            await conn.execute("SET LOCAL lock_timeout = '1s'")
            row = await (await conn.execute(sql.SQL(
                "SELECT heap_tids, elements, dead_elements, pg_relation_size({index}::regclass),"
                " pg_table_size({table}::regclass) FROM vsim.hnsw_index_stats({index}::regclass)").format(
                index=sql.Literal(INDEX_NAME), table=sql.Literal(TABLE_NAME)))).fetchone()
        gauges = [("simapi_rows", "Rows in the index (vsim.hnsw_index_stats heap_tids).", row[0]),
                  ("simapi_index_elements", "Graph nodes of the HNSW index.", row[1]),
                  ("simapi_index_dead_elements", "Graph nodes whose rows were all deleted.", row[2]),
                  ("simapi_index_bytes", "Size of the HNSW index (pg_relation_size).", row[3]),
                  ("simapi_table_bytes", "Size of the table (pg_table_size).", row[4])]
    except ApiError:
        pass    # logged by database(); the request metrics are still worth serving
    return Response(metrics.render(gauges), media_type="text/plain; version=0.0.4")
