# The vector binary format (int16 dim, int16 reserved, float4[dim], network
# byte order) read through binary COPY from files built byte by byte in
# Python: good input round-trips, every malformed variant is rejected with
# its own error.
use strict;
use warnings;
use lib "$ENV{VSIM_ROOT}/test/lib";
use PostgreSQL::Test::Utils;
use Test::More;
use VsimTest;

my $node = vsim_node('binary');
my $dir = PostgreSQL::Test::Utils::tempdir();
$node->safe_psql('postgres', 'CREATE TABLE v_any (v vector); CREATE TABLE v_two (v vector(2));');

# Write a file and COPY it into $table; returns (exit code, stderr).
sub copy_in
{
	my ($table, @fields) = @_;
	my $file = "$dir/in.bin";
	python3("$ENV{VSIM_ROOT}/test/lib/binvec.py", $file, @fields);
	my ($rc, $out, $err) = $node->psql('postgres', "COPY $table FROM '$file' WITH (FORMAT binary)");
	return ($rc, $err);
}

my ($rc, $err) = copy_in('v_any', 3, 0, 1.5, -2, 3e38);
is($rc, 0, 'well-formed binary vector is accepted');
is($node->safe_psql('postgres', 'SELECT v FROM v_any'), '[1.5,-2,3e+38]', 'binary input decodes the elements');

($rc, $err) = copy_in('v_any', 2, 1, 1, 2);
like($err, qr/invalid binary data for type vector.*\n.*reserved field must be 0, not 1/, 'non-zero reserved field is rejected');

($rc, $err) = copy_in('v_any', 3, 0, 1, 2);
like($err, qr/A vector of 3 dimensions needs 12 bytes of elements, got 8/, 'too few elements for the dimension is rejected');

($rc, $err) = copy_in('v_any', 2, 0, 1, 2, 3);
like($err, qr/A vector of 2 dimensions needs 8 bytes of elements, got 12/, 'too many elements for the dimension is rejected');

($rc, $err) = copy_in('v_any', 0, 0);
like($err, qr/vector must have at least 1 dimension/, 'zero dimensions are rejected');

($rc, $err) = copy_in('v_any', 16001, 0, 1);
like($err, qr/vector cannot have more than 16000 dimensions/, 'more than 16000 dimensions are rejected');

($rc, $err) = copy_in('v_any', -1, 0);
like($err, qr/vector must have at least 1 dimension/, 'negative dimensions are rejected');

($rc, $err) = copy_in('v_any', 2, 0, 1, 'nan');
like($err, qr/NaN not allowed in vector/, 'NaN in binary input is rejected');

($rc, $err) = copy_in('v_any', 1, 0, 'inf');
like($err, qr/infinite value not allowed in vector/, 'Infinity in binary input is rejected');

($rc, $err) = copy_in('v_two', 3, 0, 1, 2, 3);
like($err, qr/expected 2 dimensions, not 3/, 'binary input honours the column type modifier');

is($node->safe_psql('postgres', 'SELECT count(*) FROM v_any'), '1', 'rejected rows left nothing behind');

# Binary output: COPY TO in binary and back gives the same values.
$node->safe_psql('postgres', qq{
	CREATE TABLE rt AS SELECT i, array_fill(i / 7.0, ARRAY[i])::vector AS v FROM generate_series(1, 100) i;
	COPY rt TO '$dir/rt.bin' WITH (FORMAT binary);
	CREATE TABLE rt2 (LIKE rt);
	COPY rt2 FROM '$dir/rt.bin' WITH (FORMAT binary);
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM rt JOIN rt2 USING (i) WHERE rt.v = rt2.v'),
	'100', 'binary COPY out and in round-trips every vector');

# halfvec: int16 dim, int16 reserved, binary16[dim], network byte order.
$node->safe_psql('postgres', 'CREATE TABLE h_any (h halfvec); CREATE TABLE h_two (h halfvec(2));');

($rc, $err) = copy_in('h_any', '--half', 4, 0, 1.5, -2, 65504, 0.1);
is($rc, 0, 'well-formed binary halfvec is accepted');
is($node->safe_psql('postgres', 'SELECT h FROM h_any'), '[1.5,-2,65504,0.099975586]',
	'binary halfvec input decodes the binary16 elements');
is($node->safe_psql('postgres', 'SELECT halfvec_send(h) FROM h_any'), '\\x000400003e00c0007bff2e66',
	'halfvec_send gives back the same bytes');

($rc, $err) = copy_in('h_any', '--half', 2, 1, 1, 2);
like($err, qr/invalid binary data for type halfvec.*\n.*reserved field must be 0, not 1/, 'halfvec: non-zero reserved field is rejected');

($rc, $err) = copy_in('h_any', '--half', 3, 0, 1, 2);
like($err, qr/A halfvec of 3 dimensions needs 6 bytes of elements, got 4/, 'halfvec: too few elements is rejected');

($rc, $err) = copy_in('h_any', '--half', 2, 0, 1, 2, 3);
like($err, qr/A halfvec of 2 dimensions needs 4 bytes of elements, got 6/, 'halfvec: too many elements is rejected');

# the same bytes are a valid vector of 1 dimension: halfvec reads its own layout
($rc, $err) = copy_in('h_any', 1, 0, 1);
like($err, qr/A halfvec of 1 dimensions needs 2 bytes of elements, got 4/, 'a binary vector is not read as a halfvec');

($rc, $err) = copy_in('h_any', '--half', 0, 0);
like($err, qr/halfvec must have at least 1 dimension/, 'halfvec: zero dimensions are rejected');

($rc, $err) = copy_in('h_any', '--half', 16001, 0, 1);
like($err, qr/halfvec cannot have more than 16000 dimensions/, 'halfvec: more than 16000 dimensions are rejected');

($rc, $err) = copy_in('h_any', '--half', 2, 0, 1, 'nan');
like($err, qr/NaN not allowed in halfvec/, 'NaN in binary halfvec input is rejected');

($rc, $err) = copy_in('h_any', '--half', 1, 0, '-inf');
like($err, qr/infinite value not allowed in halfvec/, 'Infinity in binary halfvec input is rejected');

($rc, $err) = copy_in('h_two', '--half', 3, 0, 1, 2, 3);
like($err, qr/expected 2 dimensions, not 3/, 'binary halfvec input honours the column type modifier');

is($node->safe_psql('postgres', 'SELECT count(*) FROM h_any'), '1', 'rejected halfvec rows left nothing behind');

$node->safe_psql('postgres', qq{
	CREATE TABLE hrt AS SELECT i, array_fill(i / 7.0, ARRAY[i])::halfvec AS h FROM generate_series(1, 100) i;
	COPY hrt TO '$dir/hrt.bin' WITH (FORMAT binary);
	CREATE TABLE hrt2 (LIKE hrt);
	COPY hrt2 FROM '$dir/hrt.bin' WITH (FORMAT binary);
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM hrt JOIN hrt2 USING (i) WHERE halfvec_send(hrt.h) = halfvec_send(hrt2.h)'),
	'100', 'binary COPY out and in round-trips every halfvec');

$node->stop;
done_testing();
