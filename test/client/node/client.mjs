// client.mjs: vector, halfvec, sparsevec and bit through a real client, node-postgres
// (npm pg) with pgvector-node's type support (npm pgvector), in both wire
// formats.  Run by test/t/081_node_client.pl with PGHOST/PGPORT set; exits
// non-zero on the first failed check and prints "checks passed: N" at the end.
//
// Text: pgvector.toSql / SparseVector#toPostgres parameters, registerTypes
// parsers for results (pgvector-node reads halfvec text as an array of
// numbers; it has no halfvec class and no binary support for any type).  Binary: Buffer parameters (node-postgres sends them
// in binary format, so the server runs vector_recv / sparsevec_recv /
// bit_recv), and results through COPY ... TO STDOUT (FORMAT binary) with
// pg-copy-streams (vector_send ...: node-postgres itself decodes every
// result column as UTF-8 text, so it cannot receive binary columns intact),
// encoded and decoded here by the documented layouts.
import assert from 'node:assert/strict';
import pg from 'pg';
import pgvector from 'pgvector/pg';
import { SparseVector } from 'pgvector';
import copyStreams from 'pg-copy-streams';

let checks = 0;
function check(what, fn) {
  fn();
  checks++;
  console.log(`ok ${checks} - ${what}`);
}

const f32 = (x) => Math.fround(x);

// The rows of a query as arrays of Buffers (one per column, null for NULL),
// read from COPY (query) TO STDOUT (FORMAT binary): 11-byte signature,
// int32 flags, int32 extension length; per row int16 field count, then per
// field int32 length (-1: NULL) and the type's send bytes; int16 -1 at the end.
async function binaryRows(query) {
  const chunks = [];
  const stream = client.query(copyStreams.to(`COPY (${query}) TO STDOUT (FORMAT binary)`));
  for await (const chunk of stream) chunks.push(chunk);
  const b = Buffer.concat(chunks);
  assert.equal(b.subarray(0, 11).toString('latin1'), 'PGCOPY\n\xff\r\n\0');
  let pos = 15 + 4 + b.readInt32BE(15);
  const rows = [];
  for (;;) {
    const n = b.readInt16BE(pos);
    pos += 2;
    if (n === -1) break;
    const row = [];
    for (let i = 0; i < n; i++) {
      const len = b.readInt32BE(pos);
      pos += 4;
      row.push(len < 0 ? null : b.subarray(pos, pos + len));
      pos += Math.max(len, 0);
    }
    rows.push(row);
  }
  assert.equal(pos, b.length);
  return rows;
}

// vector: int16 dim, int16 0, float4[dim], network order
function vectorToBinary(xs) {
  const b = Buffer.alloc(4 + 4 * xs.length);
  b.writeInt16BE(xs.length, 0);
  b.writeInt16BE(0, 2);
  xs.forEach((x, i) => b.writeFloatBE(x, 4 + 4 * i));
  return b;
}
function vectorFromBinary(b) {
  const dim = b.readInt16BE(0);
  assert.equal(b.readInt16BE(2), 0);
  assert.equal(b.length, 4 + 4 * dim);
  return Array.from({ length: dim }, (_, i) => b.readFloatBE(4 + 4 * i));
}

// sparsevec: int32 dim, int32 nnz, int32 0, int32 indices (0-based), float4 values
function sparseToBinary(sv) {
  const n = sv.indices.length;
  const b = Buffer.alloc(12 + 8 * n);
  b.writeInt32BE(sv.dimensions, 0);
  b.writeInt32BE(n, 4);
  b.writeInt32BE(0, 8);
  sv.indices.forEach((idx, i) => b.writeInt32BE(idx, 12 + 4 * i));
  sv.values.forEach((x, i) => b.writeFloatBE(x, 12 + 4 * n + 4 * i));
  return b;
}
function sparseFromBinary(b) {
  const dim = b.readInt32BE(0), n = b.readInt32BE(4);
  assert.equal(b.readInt32BE(8), 0);
  assert.equal(b.length, 12 + 8 * n);
  const m = new Map();
  for (let i = 0; i < n; i++) m.set(b.readInt32BE(12 + 4 * i), b.readFloatBE(12 + 4 * n + 4 * i));
  return new SparseVector(m, dim);
}

// halfvec: int16 dim, int16 0, binary16 bit patterns, network order
function halfPatternsToBinary(hs) {
  const b = Buffer.alloc(4 + 2 * hs.length);
  b.writeInt16BE(hs.length, 0);
  b.writeInt16BE(0, 2);
  hs.forEach((h, i) => b.writeUInt16BE(h, 4 + 2 * i));
  return b;
}
// the value of a binary16 pattern (sign, 5-bit exponent biased by 15, 10-bit fraction)
function halfValue(h) {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  assert.notEqual(e, 0x1f, 'a halfvec never holds NaN or infinities');
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}
function halfvecFromBinary(b) {
  const dim = b.readInt16BE(0);
  assert.equal(b.readInt16BE(2), 0);
  assert.equal(b.length, 4 + 2 * dim);
  return Array.from({ length: dim }, (_, i) => b.readUInt16BE(4 + 2 * i));
}

// bit: int32 length in bits, then the bits, first bit the high bit of byte 0
function bitsToBinary(s) {
  const b = Buffer.alloc(4 + Math.ceil(s.length / 8));
  b.writeInt32BE(s.length, 0);
  [...s].forEach((c, i) => { if (c === '1') b[4 + (i >> 3)] |= 0x80 >> (i & 7); });
  return b;
}
function bitsFromBinary(b) {
  const len = b.readInt32BE(0);
  return Array.from({ length: len }, (_, i) => (b[4 + (i >> 3)] & (0x80 >> (i & 7)) ? '1' : '0')).join('');
}

const client = new pg.Client({ database: 'postgres' });
await client.connect();
await pgvector.registerTypes(client);

const dense = [1.5, -2, 0, 3.4028234663852886e38, 1e-45, 0.1];
const sparse = new SparseVector(new Map([[0, 1.5], [4, -2], [999999999, 0.1]]), 1000000000);
const bits = '1011001110001';

await client.query('CREATE TEMP TABLE items (id int, v vector(6), s sparsevec, b bit(13))');

// text in, text out
await client.query('INSERT INTO items VALUES (1, $1, $2, $3)', [pgvector.toSql(dense), sparse.toPostgres(), bits]);
{
  const { rows } = await client.query('SELECT v, s, b, s::text AS st FROM items WHERE id = 1');
  // text carries the shortest decimal of each float4: equal once read as float4
  check('vector text round trip', () => assert.deepEqual(rows[0].v.map(f32), dense.map(f32)));
  check('sparsevec text round trip', () => {
    assert.ok(rows[0].s instanceof SparseVector);
    assert.equal(rows[0].s.dimensions, 1000000000);
    assert.deepEqual(rows[0].s.indices, [0, 4, 999999999]);
    assert.deepEqual(rows[0].s.values.map(f32), [1.5, -2, f32(0.1)]);
  });
  check('sparsevec text form is 1-based', () => assert.equal(rows[0].st, '{1:1.5,5:-2,1000000000:0.1}/1000000000'));
  check('bit text round trip', () => assert.equal(rows[0].b, bits));
}

// binary in (Buffers go out in binary format), binary out
await client.query('INSERT INTO items VALUES (2, $1, $2, $3)',
  [vectorToBinary(dense), sparseToBinary(sparse), bitsToBinary(bits)]);
{
  const same = await client.query(`SELECT a.v = b.v AND a.s = b.s AND a.b = b.b AS same
    FROM items a, items b WHERE a.id = 1 AND b.id = 2`);
  check('binary input equals text input', () => assert.equal(same.rows[0].same, true));

  const [[v, s, b]] = await binaryRows('SELECT v, s, b FROM items WHERE id = 2');
  check('vector binary round trip', () => assert.deepEqual(vectorFromBinary(v), dense.map(f32)));
  check('sparsevec binary round trip (0-based indices)', () => {
    const sv = sparseFromBinary(s);
    assert.equal(sv.dimensions, 1000000000);
    assert.deepEqual(sv.indices, [0, 4, 999999999]);
    assert.deepEqual(sv.values, [1.5, -2, f32(0.1)]);
  });
  check('bit binary round trip', () => assert.equal(bitsFromBinary(b), bits));
  check('sparsevec binary bytes', () => assert.equal(s.toString('hex'),
    '3b9aca00' + '00000003' + '00000000' + '00000000' + '00000004' + '3b9ac9ff' + '3fc00000' + 'c0000000' + '3dcccccd'));
}

// distances on client-built values, both formats of parameters
{
  const q = new SparseVector([0, 1, 0, 2]);
  const r = new SparseVector([3, 0, 0, -1]);
  const t = await client.query('SELECT $1::sparsevec <-> $2::sparsevec AS l2, $1::sparsevec <#> $2::sparsevec AS ip',
    [q.toPostgres(), r.toPostgres()]);
  const b = await client.query('SELECT $1::sparsevec <-> $2::sparsevec AS l2, $1::sparsevec <#> $2::sparsevec AS ip',
    [sparseToBinary(q), sparseToBinary(r)]);
  check('sparsevec distances from text parameters', () => {
    assert.equal(t.rows[0].l2, Math.sqrt(9 + 1 + 9));
    assert.equal(t.rows[0].ip, 2);
  });
  check('sparsevec distances from binary parameters', () => assert.deepEqual(b.rows[0], t.rows[0]));
  const h = await client.query('SELECT $1::bit(13) <~> $2::bit(13) AS h, $1::bit(13) <%> $2::bit(13) AS j',
    [bitsToBinary(bits), bitsToBinary('0011001110000')]);
  check('bit distances from binary parameters', () => {
    assert.equal(h.rows[0].h, 2);
    assert.equal(h.rows[0].j, 1 - 5 / 7);
  });
  const [[bq]] = await binaryRows("SELECT binary_quantize('[1,-1,0,2]'::vector)");
  check('binary_quantize result in binary', () => assert.equal(bitsFromBinary(bq), '1001'));
}

// halfvec: text through pgvector's toSql and its halfvec parser, binary by
// the layout above; 0.1 rounds to the half 0.0999755859375 (0x2e66)
{
  const xs = [1.5, -2, 0.1, 65504];
  const patterns = [0x3e00, 0xc000, 0x2e66, 0x7bff];
  await client.query('CREATE TEMP TABLE hitems (id int, h halfvec(4))');
  await client.query('INSERT INTO hitems VALUES (1, $1), (2, $2)',
    [pgvector.toSql(xs), halfPatternsToBinary(patterns)]);
  const { rows } = await client.query('SELECT id, h FROM hitems ORDER BY id');
  check('halfvec text round trip (rounded to half)', () => {
    assert.deepEqual(rows[0].h.map(f32), patterns.map(halfValue));
    assert.deepEqual(rows[0].h.map(f32), [1.5, -2, 0.0999755859375, 65504]);
  });
  check('halfvec binary input equals text input', () => assert.deepEqual(rows[1].h, rows[0].h));
  const [[h1], [h2]] = await binaryRows('SELECT h FROM hitems ORDER BY id');
  check('halfvec binary output', () => {
    assert.deepEqual(halfvecFromBinary(h1), patterns);
    assert.equal(h2.toString('hex'), '00040000' + '3e00c0002e667bff');
  });
  const d = await client.query('SELECT $1::halfvec <-> $2::halfvec AS l2, $1::halfvec <#> $2::halfvec AS ip',
    [halfPatternsToBinary([0x3c00, 0x4000]), halfPatternsToBinary([0x4200, 0x0000])]);
  check('halfvec distances from binary parameters', () => {
    assert.equal(d.rows[0].l2, Math.sqrt(4 + 4));
    assert.equal(d.rows[0].ip, -3);
  });
  await assert.rejects(client.query('SELECT $1::halfvec', [halfPatternsToBinary([0x3c00, 0x7c00])]),
    (e) => e.code === '22003' && /infinite value not allowed in halfvec/.test(e.message));
  check('binary halfvec holding Infinity rejected with 22003', () => {});
}

// the server rejects a malformed binary sparsevec with its message
{
  const bad = sparseToBinary(new SparseVector(new Map([[3, 1], [1, 2]]), 5));
  bad.writeInt32BE(3, 12);
  bad.writeInt32BE(1, 16);
  await assert.rejects(client.query('SELECT $1::sparsevec', [bad]),
    (e) => e.code === '22P03' && /strictly ascending/.test(e.detail));
  check('malformed binary sparsevec rejected with 22P03', () => {});
}

await client.end();
console.log(`checks passed: ${checks}`);
