-- vsim 0.2.0 -> 0.3.0 (ALTER EXTENSION vsim UPDATE).  Brings a 0.2.0
-- catalog to what vsim--0.3.0.sql creates; test/t/013_upgrade.pl compares
-- the two object by object.  Every SQL object added or changed in 0.3.0
-- goes here as well as into its subsystem's fragment.
\echo Use "ALTER EXTENSION vsim UPDATE" to load this file. \quit

-- sparsevec and bit (issue 10): the same objects as src/vector/vector.sql ------
-- pgvector 0.8's sparsevec type and its distances, and distances on
-- PostgreSQL's bit type (src/vector/sparsevec.c, src/vector/bitvec.c).

CREATE TYPE sparsevec;

CREATE FUNCTION sparsevec_in(cstring, oid, integer) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_out(sparsevec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_recv(internal, oid, integer) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_send(sparsevec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE sparsevec (
	INPUT = sparsevec_in,
	OUTPUT = sparsevec_out,
	TYPMOD_IN = sparsevec_typmod_in,
	TYPMOD_OUT = vector_typmod_out,
	RECEIVE = sparsevec_recv,
	SEND = sparsevec_send,
	STORAGE = external
);
COMMENT ON TYPE sparsevec IS 'sparse vector of float4 elements, 1 to 1000000000 dimensions, at most 16000 non-zero; text {index:value,...}/dim with 1-based indices; sparsevec(n) fixes the dimensions';

COMMENT ON FUNCTION sparsevec_in(cstring, oid, integer) IS 'text input of sparsevec: {i1:x1,i2:x2,...}/dim, 1-based indices in any order, each once; zeros dropped';
COMMENT ON FUNCTION sparsevec_out(sparsevec) IS 'text output of sparsevec: {i:x,...}/dim, ascending 1-based indices, shortest exact form of each element';
COMMENT ON FUNCTION sparsevec_typmod_in(cstring[]) IS 'type modifier input of sparsevec(n)';
COMMENT ON FUNCTION sparsevec_recv(internal, oid, integer) IS 'binary input of sparsevec: int32 dim, int32 nnz, int32 0, int32 indices[nnz] (0-based, ascending), float4 values[nnz] (non-zero)';
COMMENT ON FUNCTION sparsevec_send(sparsevec) IS 'binary output of sparsevec: int32 dim, int32 nnz, int32 0, int32 indices[nnz] (0-based, ascending), float4 values[nnz]';

CREATE FUNCTION l2_distance(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_distance(sparsevec, sparsevec) IS 'Euclidean distance';
CREATE FUNCTION sparsevec_l2_squared_distance(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_l2_squared_distance(sparsevec, sparsevec) IS 'squared Euclidean distance';
CREATE FUNCTION inner_product(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inner_product(sparsevec, sparsevec) IS 'inner (dot) product';
CREATE FUNCTION sparsevec_negative_inner_product(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_negative_inner_product(sparsevec, sparsevec) IS 'negative inner product (smaller is more similar)';
CREATE FUNCTION cosine_distance(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cosine_distance(sparsevec, sparsevec) IS 'cosine distance 1 - cos(a, b), in [0, 2]; 1 when either vector is zero';
CREATE FUNCTION l1_distance(sparsevec, sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l1_distance(sparsevec, sparsevec) IS 'L1 (taxicab) distance';
CREATE FUNCTION l2_norm(sparsevec) RETURNS float8
	AS 'MODULE_PATHNAME', 'sparsevec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_norm(sparsevec) IS 'Euclidean norm';
CREATE FUNCTION l2_normalize(sparsevec) RETURNS sparsevec
	AS 'MODULE_PATHNAME', 'sparsevec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_normalize(sparsevec) IS 'the sparse vector scaled to Euclidean norm 1 (a zero vector stays zero)';

CREATE FUNCTION sparsevec_lt(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_le(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_eq(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_ne(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_ge(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_gt(sparsevec, sparsevec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION sparsevec_cmp(sparsevec, sparsevec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_lt(sparsevec, sparsevec) IS 'less than, in the element-wise order of the dense vectors';
COMMENT ON FUNCTION sparsevec_le(sparsevec, sparsevec) IS 'less than or equal, in the element-wise order of the dense vectors';
COMMENT ON FUNCTION sparsevec_eq(sparsevec, sparsevec) IS 'equal: same dimensions and elements';
COMMENT ON FUNCTION sparsevec_ne(sparsevec, sparsevec) IS 'not equal';
COMMENT ON FUNCTION sparsevec_ge(sparsevec, sparsevec) IS 'greater than or equal, in the element-wise order of the dense vectors';
COMMENT ON FUNCTION sparsevec_gt(sparsevec, sparsevec) IS 'greater than, in the element-wise order of the dense vectors';
COMMENT ON FUNCTION sparsevec_cmp(sparsevec, sparsevec) IS 'btree comparison: -1, 0 or 1';

CREATE FUNCTION sparsevec(sparsevec, integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME', 'sparsevec_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec(sparsevec, integer, boolean) IS 'sparsevec(n) length coercion: checks the dimensions';
CREATE FUNCTION vector_to_sparsevec(vector, integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_to_sparsevec(vector, integer, boolean) IS 'cast vector to sparsevec (keeps the non-zero elements)';
CREATE FUNCTION sparsevec_to_vector(sparsevec, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_to_vector(sparsevec, integer, boolean) IS 'cast sparsevec to vector (at most 16000 dimensions)';
CREATE FUNCTION array_to_sparsevec(integer[], integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_sparsevec(real[], integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_sparsevec(double precision[], integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_sparsevec(numeric[], integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION array_to_sparsevec(integer[], integer, boolean) IS 'cast a dense integer[] to sparsevec';
COMMENT ON FUNCTION array_to_sparsevec(real[], integer, boolean) IS 'cast a dense real[] to sparsevec';
COMMENT ON FUNCTION array_to_sparsevec(double precision[], integer, boolean) IS 'cast a dense double precision[] to sparsevec';
COMMENT ON FUNCTION array_to_sparsevec(numeric[], integer, boolean) IS 'cast a dense numeric[] to sparsevec';

CREATE CAST (sparsevec AS sparsevec) WITH FUNCTION sparsevec(sparsevec, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS vector) WITH FUNCTION sparsevec_to_vector(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS sparsevec) WITH FUNCTION vector_to_sparsevec(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS sparsevec) WITH FUNCTION array_to_sparsevec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS sparsevec) WITH FUNCTION array_to_sparsevec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS sparsevec) WITH FUNCTION array_to_sparsevec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS sparsevec) WITH FUNCTION array_to_sparsevec(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE OPERATOR <-> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = l1_distance, COMMUTATOR = '<+>');
COMMENT ON OPERATOR <->(sparsevec, sparsevec) IS 'Euclidean distance';
COMMENT ON OPERATOR <#>(sparsevec, sparsevec) IS 'negative inner product';
COMMENT ON OPERATOR <=>(sparsevec, sparsevec) IS 'cosine distance';
COMMENT ON OPERATOR <+>(sparsevec, sparsevec) IS 'L1 (taxicab) distance';

CREATE OPERATOR < (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, MERGES);
CREATE OPERATOR <> (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = sparsevec, RIGHTARG = sparsevec, PROCEDURE = sparsevec_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
COMMENT ON OPERATOR <(sparsevec, sparsevec) IS 'less than';
COMMENT ON OPERATOR <=(sparsevec, sparsevec) IS 'less than or equal';
COMMENT ON OPERATOR =(sparsevec, sparsevec) IS 'equal';
COMMENT ON OPERATOR <>(sparsevec, sparsevec) IS 'not equal';
COMMENT ON OPERATOR >=(sparsevec, sparsevec) IS 'greater than or equal';
COMMENT ON OPERATOR >(sparsevec, sparsevec) IS 'greater than';

CREATE OPERATOR CLASS sparsevec_ops
	DEFAULT FOR TYPE sparsevec USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 sparsevec_cmp(sparsevec, sparsevec);
COMMENT ON OPERATOR CLASS sparsevec_ops USING btree IS 'default btree order of sparsevec (that of the dense vectors)';

-- bit: PostgreSQL's bit(n)

CREATE FUNCTION hamming_distance(bit, bit) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION hamming_distance(bit, bit) IS 'Hamming distance: the number of differing bits (same lengths only)';
CREATE FUNCTION jaccard_distance(bit, bit) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION jaccard_distance(bit, bit) IS 'Jaccard distance 1 - |a AND b| / |a OR b|, in [0, 1]; 1 when both are all zeros (same lengths only)';
CREATE FUNCTION binary_quantize(vector) RETURNS bit
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION binary_quantize(vector) IS 'one bit per element: 1 where the element is positive, else 0';

CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');
COMMENT ON OPERATOR <~>(bit, bit) IS 'Hamming distance';
COMMENT ON OPERATOR <%>(bit, bit) IS 'Jaccard distance';

-- halfvec (issue 10) ----------------------------------------------------------
-- pgvector 0.8's halfvec type: binary16 elements (src/vector/halfvec.c).

CREATE TYPE halfvec;

CREATE FUNCTION halfvec_in(cstring, oid, integer) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_out(halfvec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_recv(internal, oid, integer) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_send(halfvec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE halfvec (
	INPUT = halfvec_in,
	OUTPUT = halfvec_out,
	TYPMOD_IN = halfvec_typmod_in,
	TYPMOD_OUT = vector_typmod_out,
	RECEIVE = halfvec_recv,
	SEND = halfvec_send,
	STORAGE = external
);
COMMENT ON TYPE halfvec IS 'vector of half-precision (binary16) elements, at most 65504 in magnitude, 1 to 16000 dimensions; halfvec(n) fixes the dimensions';

COMMENT ON FUNCTION halfvec_in(cstring, oid, integer) IS 'text input of halfvec: [x1,x2,...], each element rounded to the nearest half';
COMMENT ON FUNCTION halfvec_out(halfvec) IS 'text output of halfvec, shortest exact float4 form of each element';
COMMENT ON FUNCTION halfvec_typmod_in(cstring[]) IS 'type modifier input of halfvec(n)';
COMMENT ON FUNCTION halfvec_recv(internal, oid, integer) IS 'binary input of halfvec: int16 dim, int16 0, binary16[dim]';
COMMENT ON FUNCTION halfvec_send(halfvec) IS 'binary output of halfvec: int16 dim, int16 0, binary16[dim]';

CREATE FUNCTION l2_distance(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_distance(halfvec, halfvec) IS 'Euclidean distance';
CREATE FUNCTION halfvec_l2_squared_distance(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_l2_squared_distance(halfvec, halfvec) IS 'squared Euclidean distance';
CREATE FUNCTION inner_product(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inner_product(halfvec, halfvec) IS 'inner (dot) product';
CREATE FUNCTION halfvec_negative_inner_product(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_negative_inner_product(halfvec, halfvec) IS 'negative inner product (smaller is more similar)';
CREATE FUNCTION cosine_distance(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cosine_distance(halfvec, halfvec) IS 'cosine distance 1 - cos(a, b), in [0, 2]; 1 when either vector is zero';
CREATE FUNCTION l1_distance(halfvec, halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l1_distance(halfvec, halfvec) IS 'L1 (taxicab) distance';

CREATE FUNCTION vector_dims(halfvec) RETURNS integer
	AS 'MODULE_PATHNAME', 'halfvec_vector_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_dims(halfvec) IS 'number of dimensions';
CREATE FUNCTION l2_norm(halfvec) RETURNS float8
	AS 'MODULE_PATHNAME', 'halfvec_l2_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_norm(halfvec) IS 'Euclidean norm';
CREATE FUNCTION l2_normalize(halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME', 'halfvec_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION l2_normalize(halfvec) IS 'the halfvec scaled to Euclidean norm 1, rounded to half (a zero vector stays zero)';
CREATE FUNCTION subvector(halfvec, integer, integer) RETURNS halfvec
	AS 'MODULE_PATHNAME', 'halfvec_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION subvector(halfvec, integer, integer) IS 'subvector(v, start, count): count elements from 1-based position start';
CREATE FUNCTION binary_quantize(halfvec) RETURNS bit
	AS 'MODULE_PATHNAME', 'halfvec_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION binary_quantize(halfvec) IS 'one bit per element: 1 where the element is positive, else 0';

CREATE FUNCTION halfvec_add(halfvec, halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_add(halfvec, halfvec) IS 'element-wise sum';
CREATE FUNCTION halfvec_sub(halfvec, halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_sub(halfvec, halfvec) IS 'element-wise difference';
CREATE FUNCTION halfvec_mul(halfvec, halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_mul(halfvec, halfvec) IS 'element-wise product';
CREATE FUNCTION halfvec_concat(halfvec, halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_concat(halfvec, halfvec) IS 'concatenation';

CREATE FUNCTION halfvec_lt(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_le(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_eq(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_ne(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_ge(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_gt(halfvec, halfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION halfvec_cmp(halfvec, halfvec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_lt(halfvec, halfvec) IS 'less than, in element-wise lexicographic order';
COMMENT ON FUNCTION halfvec_le(halfvec, halfvec) IS 'less than or equal, in element-wise lexicographic order';
COMMENT ON FUNCTION halfvec_eq(halfvec, halfvec) IS 'equal: same dimensions and elements';
COMMENT ON FUNCTION halfvec_ne(halfvec, halfvec) IS 'not equal';
COMMENT ON FUNCTION halfvec_ge(halfvec, halfvec) IS 'greater than or equal, in element-wise lexicographic order';
COMMENT ON FUNCTION halfvec_gt(halfvec, halfvec) IS 'greater than, in element-wise lexicographic order';
COMMENT ON FUNCTION halfvec_cmp(halfvec, halfvec) IS 'btree comparison: -1, 0 or 1';

CREATE FUNCTION halfvec_accum(float8[], halfvec) RETURNS float8[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_accum(float8[], halfvec) IS 'transition function of avg(halfvec) and sum(halfvec)';
CREATE FUNCTION halfvec_avg(float8[]) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_avg(float8[]) IS 'final function of avg(halfvec)';
CREATE FUNCTION halfvec_sum(float8[]) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_sum(float8[]) IS 'final function of sum(halfvec)';

CREATE AGGREGATE avg(halfvec) (
	SFUNC = halfvec_accum,
	STYPE = float8[],
	FINALFUNC = halfvec_avg,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE avg(halfvec) IS 'element-wise mean of halfvecs';

CREATE AGGREGATE sum(halfvec) (
	SFUNC = halfvec_accum,
	STYPE = float8[],
	FINALFUNC = halfvec_sum,
	COMBINEFUNC = vector_combine,
	INITCOND = '{0}',
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE sum(halfvec) IS 'element-wise sum of halfvecs';

CREATE FUNCTION halfvec(halfvec, integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME', 'halfvec_coerce' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec(halfvec, integer, boolean) IS 'halfvec(n) length coercion: checks the dimensions';
CREATE FUNCTION halfvec_to_vector(halfvec, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_to_vector(halfvec, integer, boolean) IS 'cast halfvec to vector (exact)';
CREATE FUNCTION vector_to_halfvec(vector, integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vector_to_halfvec(vector, integer, boolean) IS 'cast vector to halfvec (rounded to nearest; beyond 65504 in magnitude is an error)';
CREATE FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) RETURNS sparsevec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) IS 'cast halfvec to sparsevec (keeps the non-zero elements)';
CREATE FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) IS 'cast sparsevec to halfvec (at most 16000 dimensions and 65504 in magnitude)';
CREATE FUNCTION halfvec_to_float4(halfvec, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION halfvec_to_float4(halfvec, integer, boolean) IS 'cast halfvec to real[]';
CREATE FUNCTION array_to_halfvec(integer[], integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_halfvec(real[], integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_halfvec(double precision[], integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_halfvec(numeric[], integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION array_to_halfvec(integer[], integer, boolean) IS 'cast integer[] to halfvec';
COMMENT ON FUNCTION array_to_halfvec(real[], integer, boolean) IS 'cast real[] to halfvec';
COMMENT ON FUNCTION array_to_halfvec(double precision[], integer, boolean) IS 'cast double precision[] to halfvec';
COMMENT ON FUNCTION array_to_halfvec(numeric[], integer, boolean) IS 'cast numeric[] to halfvec';

CREATE CAST (halfvec AS halfvec) WITH FUNCTION halfvec(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (halfvec AS vector) WITH FUNCTION halfvec_to_vector(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS halfvec) WITH FUNCTION vector_to_halfvec(vector, integer, boolean) AS IMPLICIT;
CREATE CAST (halfvec AS sparsevec) WITH FUNCTION halfvec_to_sparsevec(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (sparsevec AS halfvec) WITH FUNCTION sparsevec_to_halfvec(sparsevec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (halfvec AS real[]) WITH FUNCTION halfvec_to_float4(halfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS halfvec) WITH FUNCTION array_to_halfvec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS halfvec) WITH FUNCTION array_to_halfvec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS halfvec) WITH FUNCTION array_to_halfvec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS halfvec) WITH FUNCTION array_to_halfvec(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE OPERATOR <-> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = l1_distance, COMMUTATOR = '<+>');
COMMENT ON OPERATOR <->(halfvec, halfvec) IS 'Euclidean distance';
COMMENT ON OPERATOR <#>(halfvec, halfvec) IS 'negative inner product';
COMMENT ON OPERATOR <=>(halfvec, halfvec) IS 'cosine distance';
COMMENT ON OPERATOR <+>(halfvec, halfvec) IS 'L1 (taxicab) distance';

CREATE OPERATOR + (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_sub);
CREATE OPERATOR * (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_concat);
COMMENT ON OPERATOR +(halfvec, halfvec) IS 'element-wise sum';
COMMENT ON OPERATOR -(halfvec, halfvec) IS 'element-wise difference';
COMMENT ON OPERATOR *(halfvec, halfvec) IS 'element-wise product';
COMMENT ON OPERATOR ||(halfvec, halfvec) IS 'concatenation';

CREATE OPERATOR < (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, MERGES);
CREATE OPERATOR <> (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = halfvec, RIGHTARG = halfvec, PROCEDURE = halfvec_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
COMMENT ON OPERATOR <(halfvec, halfvec) IS 'less than';
COMMENT ON OPERATOR <=(halfvec, halfvec) IS 'less than or equal';
COMMENT ON OPERATOR =(halfvec, halfvec) IS 'equal';
COMMENT ON OPERATOR <>(halfvec, halfvec) IS 'not equal';
COMMENT ON OPERATOR >=(halfvec, halfvec) IS 'greater than or equal';
COMMENT ON OPERATOR >(halfvec, halfvec) IS 'greater than';

CREATE OPERATOR CLASS halfvec_ops
	DEFAULT FOR TYPE halfvec USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 halfvec_cmp(halfvec, halfvec);
COMMENT ON OPERATOR CLASS halfvec_ops USING btree IS 'default btree order of halfvec (element-wise lexicographic, then fewer dimensions first)';

-- HNSW reachability (issue 12): the same objects as src/hnsw/hnsw.sql ---------
CREATE FUNCTION vsim.hnsw_index_reachability(index regclass,
	OUT live_elements bigint, OUT unlinked_elements bigint, OUT unreachable_elements bigint)
	AS 'MODULE_PATHNAME', 'hnsw_index_reachability' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_reachability(regclass) IS
	'reachability in an hnsw index''s graph: live elements, live elements no live element''s level-0 neighbour list names (but the entry point), live elements a search from the entry point cannot reach; not damage (vsim.index_check does not report them); reads every element; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';
CREATE FUNCTION vsim.hnsw_index_unreachable(index regclass) RETURNS tid[]
	AS 'MODULE_PATHNAME', 'hnsw_index_unreachable' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_unreachable(regclass) IS
	'heap TIDs of the live elements of an hnsw index that a search from the entry point cannot reach (the unreachable_elements of vsim.hnsw_index_reachability): no index scan returns these rows; includes rows not visible to you (aborted, or deleted and not yet vacuumed), so join with the table; same privileges as vsim.hnsw_index_reachability';

-- bit indexes (issue 10): the same objects as src/vector/vector.sql, src/hnsw/hnsw.sql, src/ivf/ivf.sql
-- index metric support for bit (issue 10): the bit operator classes of hnsw
-- and ivfflat

CREATE FUNCTION vsim_metric_hamming(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vsim_metric_jaccard(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_metric_hamming(internal) IS 'index operator class support: Hamming metric (bit)';
COMMENT ON FUNCTION vsim_metric_jaccard(internal) IS 'index operator class support: Jaccard metric (bit)';

-- bit (issue 10)
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING hnsw IS 'hnsw search of bit(n) by Hamming distance (<~>)';
CREATE OPERATOR CLASS bit_jaccard_ops
	FOR TYPE bit USING hnsw AS
	OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_jaccard(internal);
COMMENT ON OPERATOR CLASS bit_jaccard_ops USING hnsw IS 'hnsw search of bit(n) by Jaccard distance (<%>)';

-- bit (issue 10)
CREATE OPERATOR CLASS bit_hamming_ops
	FOR TYPE bit USING ivfflat AS
	OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_hamming(internal);
COMMENT ON OPERATOR CLASS bit_hamming_ops USING ivfflat IS 'ivfflat search of bit(n) by Hamming distance (<~>); centres are the lists'' bitwise majorities';

-- halfvec (issue 10)
CREATE OPERATOR CLASS halfvec_l2_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING hnsw IS 'hnsw search of halfvec by Euclidean distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING hnsw IS 'hnsw search of halfvec by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING hnsw IS 'hnsw search of halfvec by cosine distance (<=>); zero vectors are not indexed';
CREATE OPERATOR CLASS halfvec_l1_ops
	FOR TYPE halfvec USING hnsw AS
	OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l1(internal);
COMMENT ON OPERATOR CLASS halfvec_l1_ops USING hnsw IS 'hnsw search of halfvec by taxicab distance (<+>)';

-- halfvec (issue 10)
CREATE OPERATOR CLASS halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS halfvec_l2_ops USING ivfflat IS 'ivfflat search of halfvec by Euclidean distance (<->)';
CREATE OPERATOR CLASS halfvec_ip_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS halfvec_ip_ops USING ivfflat IS 'ivfflat search of halfvec by negative inner product (<#>)';
CREATE OPERATOR CLASS halfvec_cosine_ops
	FOR TYPE halfvec USING ivfflat AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS halfvec_cosine_ops USING ivfflat IS 'ivfflat search of halfvec by cosine distance (<=>); zero vectors are not indexed';

-- Planner support of the dense vector distance functions: a call costs in
-- proportion to the vectors' dimensions, plus the TOAST fetch of operands
-- stored out of line (src/vector/vector_cost.c).
CREATE FUNCTION vsim_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_distance_support(internal) IS 'planner support of the vector distance functions: a cost per call from the dimensions and TOAST storage of the operands';
ALTER FUNCTION l2_distance(vector, vector) SUPPORT vsim_distance_support;
ALTER FUNCTION vector_l2_squared_distance(vector, vector) SUPPORT vsim_distance_support;
ALTER FUNCTION inner_product(vector, vector) SUPPORT vsim_distance_support;
ALTER FUNCTION vector_negative_inner_product(vector, vector) SUPPORT vsim_distance_support;
ALTER FUNCTION cosine_distance(vector, vector) SUPPORT vsim_distance_support;
ALTER FUNCTION l1_distance(vector, vector) SUPPORT vsim_distance_support;

-- halfvec distances are priced the same way (two bytes per element)
CREATE FUNCTION vsim_halfvec_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_halfvec_distance_support(internal) IS 'planner support of the halfvec distance functions: a cost per call from the dimensions and TOAST storage of the operands';
ALTER FUNCTION l2_distance(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;
ALTER FUNCTION halfvec_l2_squared_distance(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;
ALTER FUNCTION inner_product(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;
ALTER FUNCTION halfvec_negative_inner_product(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;
ALTER FUNCTION cosine_distance(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;
ALTER FUNCTION l1_distance(halfvec, halfvec) SUPPORT vsim_halfvec_distance_support;

-- sparsevec and bit distances are priced by their operands' stored
-- elements and bits (src/vector/vector_cost.c)
CREATE FUNCTION vsim_sparsevec_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_sparsevec_distance_support(internal) IS 'planner support of the sparsevec distance functions: a cost per call from the stored elements and TOAST storage of the operands';
ALTER FUNCTION l2_distance(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;
ALTER FUNCTION sparsevec_l2_squared_distance(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;
ALTER FUNCTION inner_product(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;
ALTER FUNCTION sparsevec_negative_inner_product(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;
ALTER FUNCTION cosine_distance(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;
ALTER FUNCTION l1_distance(sparsevec, sparsevec) SUPPORT vsim_sparsevec_distance_support;

CREATE FUNCTION vsim_bit_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim_bit_distance_support(internal) IS 'planner support of the bit distance functions: a cost per call from the bit length and TOAST storage of the operands';
ALTER FUNCTION hamming_distance(bit, bit) SUPPORT vsim_bit_distance_support;
ALTER FUNCTION jaccard_distance(bit, bit) SUPPORT vsim_bit_distance_support;

-- ivfflat quantization (issue 9): the same objects as src/ivf/ivf.sql ------
-- vsim.ivfflat_index_stats gains quantization, bytes_per_vector,
-- param_pages and, with filter columns (issue 14), filter_columns (new OUT
-- columns: the function is created again).

DROP FUNCTION vsim.ivfflat_index_stats(regclass);
CREATE FUNCTION vsim.ivfflat_index_stats(index regclass,
	OUT lists integer, OUT requested_lists integer, OUT dims integer, OUT metric text,
	OUT rows bigint, OUT rows_at_build bigint,
	OUT min_list_rows bigint, OUT max_list_rows bigint, OUT mean_list_rows double precision,
	OUT imbalance double precision, OUT imbalance_at_build double precision,
	OUT empty_lists bigint, OUT list_pages bigint, OUT total_pages bigint,
	OUT quantization text, OUT bytes_per_vector integer, OUT param_pages integer,
	OUT filter_columns integer)
	AS 'MODULE_PATHNAME', 'ivfflat_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.ivfflat_index_stats(regclass) IS
	'shape of an ivfflat index: lists, rows per list (min, max, mean, imbalance factor, 1.0 = even) now and at build time, pages, quantization mode, bytes stored per vector, quantization parameter pages and filter columns; read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';

-- hnsw quantization option (issue 9): vsim.hnsw_index_stats gains
-- quantization and bytes_per_vector, and with the filter directory
-- (issue 14) filter_columns, filter_dir_pages and filter_dir_entries
-- (new OUT columns: the function is
-- created again; its privilege rule stays the one checked in C).

DROP FUNCTION vsim.hnsw_index_stats(regclass);
CREATE FUNCTION vsim.hnsw_index_stats(index regclass,
	OUT elements bigint, OUT dead_elements bigint, OUT free_slots bigint, OUT heap_tids bigint,
	OUT levels integer, OUT entry_point text, OUT entry_level integer,
	OUT pages bigint, OUT avg_level0_neighbours double precision,
	OUT m integer, OUT ef_construction integer, OUT dimensions integer,
	OUT quantization text, OUT bytes_per_vector integer,
	OUT filter_columns integer, OUT filter_dir_pages bigint, OUT filter_dir_entries bigint)
	AS 'MODULE_PATHNAME', 'hnsw_index_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vsim.hnsw_index_stats(regclass) IS
	'statistics of an hnsw index: elements, dead elements, free slots, heap TIDs, levels, entry point (block,offset) and level, pages, average level-0 neighbours, m, ef_construction, dimensions, quantization mode, bytes stored per vector (NULL for sparsevec), filter columns, and the filter directory''s pages and entries (NULL without one); read from the live pages; allowed to roles with SELECT on the index''s table or the privileges of pg_stat_scan_tables';

-- Filter columns (issue 14): key columns after the vector, tested during
-- the graph walk (src/index/index_filter.c).  Btree strategy numbers; the
-- integer types share one family with the cross-type operators, so that
-- smallint_col = 5 (an int2 = int4 operator) is an index condition.
CREATE OPERATOR FAMILY integer_ops USING hnsw;
COMMENT ON OPERATOR FAMILY integer_ops USING hnsw IS 'hnsw filter columns of smallint, integer and bigint: =, <, <=, >, >=, = ANY, across the three types';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING hnsw FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int2_ops USING hnsw IS 'hnsw filter column of type smallint: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING hnsw FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int4_ops USING hnsw IS 'hnsw filter column of type integer: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING hnsw FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int8_ops USING hnsw IS 'hnsw filter column of type bigint: =, <, <=, >, >=, = ANY';
ALTER OPERATOR FAMILY integer_ops USING hnsw ADD
	OPERATOR 1 < (int2, int4),
	OPERATOR 2 <= (int2, int4),
	OPERATOR 3 = (int2, int4),
	OPERATOR 4 >= (int2, int4),
	OPERATOR 5 > (int2, int4),
	OPERATOR 1 < (int2, int8),
	OPERATOR 2 <= (int2, int8),
	OPERATOR 3 = (int2, int8),
	OPERATOR 4 >= (int2, int8),
	OPERATOR 5 > (int2, int8),
	OPERATOR 1 < (int4, int2),
	OPERATOR 2 <= (int4, int2),
	OPERATOR 3 = (int4, int2),
	OPERATOR 4 >= (int4, int2),
	OPERATOR 5 > (int4, int2),
	OPERATOR 1 < (int4, int8),
	OPERATOR 2 <= (int4, int8),
	OPERATOR 3 = (int4, int8),
	OPERATOR 4 >= (int4, int8),
	OPERATOR 5 > (int4, int8),
	OPERATOR 1 < (int8, int2),
	OPERATOR 2 <= (int8, int2),
	OPERATOR 3 = (int8, int2),
	OPERATOR 4 >= (int8, int2),
	OPERATOR 5 > (int8, int2),
	OPERATOR 1 < (int8, int4),
	OPERATOR 2 <= (int8, int4),
	OPERATOR 3 = (int8, int4),
	OPERATOR 4 >= (int8, int4),
	OPERATOR 5 > (int8, int4);
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING hnsw AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS bool_ops USING hnsw IS 'hnsw filter column of type boolean: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING hnsw AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS date_ops USING hnsw IS 'hnsw filter column of type date: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING hnsw AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS timestamptz_ops USING hnsw IS 'hnsw filter column of type timestamp with time zone: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING hnsw AS
	OPERATOR 3 =;
COMMENT ON OPERATOR CLASS text_ops USING hnsw IS 'hnsw filter column of type text or varchar: = and = ANY, on 64-bit hashes of the strings (lossy, rechecked); deterministic collations only';

-- Filter columns (issue 14): key columns after the vector, tested on each
-- list item before its distance (src/index/index_filter.c).  Btree strategy
-- numbers; the integer types share one family with the cross-type
-- operators, so that smallint_col = 5 (an int2 = int4 operator) is an index
-- condition.
CREATE OPERATOR FAMILY integer_ops USING ivfflat;
COMMENT ON OPERATOR FAMILY integer_ops USING ivfflat IS 'ivfflat filter columns of smallint, integer and bigint: =, <, <=, >, >=, = ANY, across the three types';
CREATE OPERATOR CLASS int2_ops
	DEFAULT FOR TYPE int2 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int2_ops USING ivfflat IS 'ivfflat filter column of type smallint: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int4_ops
	DEFAULT FOR TYPE int4 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int4_ops USING ivfflat IS 'ivfflat filter column of type integer: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS int8_ops
	DEFAULT FOR TYPE int8 USING ivfflat FAMILY integer_ops AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS int8_ops USING ivfflat IS 'ivfflat filter column of type bigint: =, <, <=, >, >=, = ANY';
ALTER OPERATOR FAMILY integer_ops USING ivfflat ADD
	OPERATOR 1 < (int2, int4),
	OPERATOR 2 <= (int2, int4),
	OPERATOR 3 = (int2, int4),
	OPERATOR 4 >= (int2, int4),
	OPERATOR 5 > (int2, int4),
	OPERATOR 1 < (int2, int8),
	OPERATOR 2 <= (int2, int8),
	OPERATOR 3 = (int2, int8),
	OPERATOR 4 >= (int2, int8),
	OPERATOR 5 > (int2, int8),
	OPERATOR 1 < (int4, int2),
	OPERATOR 2 <= (int4, int2),
	OPERATOR 3 = (int4, int2),
	OPERATOR 4 >= (int4, int2),
	OPERATOR 5 > (int4, int2),
	OPERATOR 1 < (int4, int8),
	OPERATOR 2 <= (int4, int8),
	OPERATOR 3 = (int4, int8),
	OPERATOR 4 >= (int4, int8),
	OPERATOR 5 > (int4, int8),
	OPERATOR 1 < (int8, int2),
	OPERATOR 2 <= (int8, int2),
	OPERATOR 3 = (int8, int2),
	OPERATOR 4 >= (int8, int2),
	OPERATOR 5 > (int8, int2),
	OPERATOR 1 < (int8, int4),
	OPERATOR 2 <= (int8, int4),
	OPERATOR 3 = (int8, int4),
	OPERATOR 4 >= (int8, int4),
	OPERATOR 5 > (int8, int4);
CREATE OPERATOR CLASS bool_ops
	DEFAULT FOR TYPE bool USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS bool_ops USING ivfflat IS 'ivfflat filter column of type boolean: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS date_ops
	DEFAULT FOR TYPE date USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS date_ops USING ivfflat IS 'ivfflat filter column of type date: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS timestamptz_ops
	DEFAULT FOR TYPE timestamptz USING ivfflat AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >;
COMMENT ON OPERATOR CLASS timestamptz_ops USING ivfflat IS 'ivfflat filter column of type timestamp with time zone: =, <, <=, >, >=, = ANY';
CREATE OPERATOR CLASS text_ops
	DEFAULT FOR TYPE text USING ivfflat AS
	OPERATOR 3 =;
COMMENT ON OPERATOR CLASS text_ops USING ivfflat IS 'ivfflat filter column of type text or varchar: = and = ANY, on 64-bit hashes of the strings (lossy, rechecked); deterministic collations only';

-- array filter columns (issue 14): integer[], bigint[], text[] with &&, @>, <@
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING hnsw AS
	OPERATOR 1 && (anyarray, anyarray),
	OPERATOR 2 @> (anyarray, anyarray),
	OPERATOR 3 <@ (anyarray, anyarray);
COMMENT ON OPERATOR CLASS array_ops USING hnsw IS 'hnsw filter column of type integer[], bigint[] or text[] (labels, tags): &&, @> and <@, on 64-bit Bloom signatures of the elements (lossy, rechecked)';
CREATE OPERATOR CLASS array_ops
	DEFAULT FOR TYPE anyarray USING ivfflat AS
	OPERATOR 1 && (anyarray, anyarray),
	OPERATOR 2 @> (anyarray, anyarray),
	OPERATOR 3 <@ (anyarray, anyarray);
COMMENT ON OPERATOR CLASS array_ops USING ivfflat IS 'ivfflat filter column of type integer[], bigint[] or text[] (labels, tags): &&, @> and <@, on 64-bit Bloom signatures of the elements (lossy, rechecked)';
-- sparsevec HNSW operator classes (issue 10): variable-size elements, at
-- most 1000 non-zero elements per value (VINDEX_SPARSEVEC_MAX_NNZ, src/index/index.h)
CREATE OPERATOR CLASS sparsevec_l2_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l2(internal);
COMMENT ON OPERATOR CLASS sparsevec_l2_ops USING hnsw IS 'hnsw search of sparsevec by Euclidean distance (<->); at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_ip_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_ip(internal);
COMMENT ON OPERATOR CLASS sparsevec_ip_ops USING hnsw IS 'hnsw search of sparsevec by negative inner product (<#>); at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_cosine_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_cosine(internal);
COMMENT ON OPERATOR CLASS sparsevec_cosine_ops USING hnsw IS 'hnsw search of sparsevec by cosine distance (<=>); zero vectors are not indexed; at most 1000 non-zero elements per value';
CREATE OPERATOR CLASS sparsevec_l1_ops
	FOR TYPE sparsevec USING hnsw AS
	OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
	FUNCTION 1 vsim_metric_l1(internal);
COMMENT ON OPERATOR CLASS sparsevec_l1_ops USING hnsw IS 'hnsw search of sparsevec by taxicab distance (<+>); at most 1000 non-zero elements per value';
