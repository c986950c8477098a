# test/t/055_embed_long_text.pl: the tokenizer truncates as it goes, for
# every script.
#
# Texts of millions of characters without a space (Chinese, Thai) give the
# tokens of their prefix, and tokenizing a 20M-character one leaves the
# backend's peak memory where reading the text alone puts it: the
# tokenizer stops once max_length tokens exist, and keeps one word at a
# time, never the decoded text.  Both normalisation paths are covered: an
# uncased vocab.txt (NFD, accents stripped, canonical ordering done a
# character at a time) and a cased tokenizer.json (no NFD).
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib "$ENV{VSIM_ROOT}/test/lib";
use VsimTest;

my ($node, $models) = embed_test_node('embed_long_text');

# A vocabulary with ideographs, Thai and a word written with two spacing
# combining marks (U+1D165, class 216; U+1D16D, class 226), within the 90
# ids the test encoder embeds.
my @vocab = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '中', '文', '字',
	'ภาษา', '##ไทย', '๚', 'ท', 'ที่', "a\x{1D165}\x{1D16D}", 'hello');
open(my $fh, '>:encoding(UTF-8)', "$models/cjk_vocab.txt") or die;
print $fh join("\n", @vocab), "\n";
close $fh;
open($fh, '>:encoding(UTF-8)', "$models/cjk_cased.json") or die;
print $fh '{"normalizer": {"lowercase": false}, "model": {"type": "WordPiece", "vocab": {'
  . join(', ', map { qq("$vocab[$_]": $_) } 0 .. $#vocab) . '}}}';
close $fh;

sub query
{
	my ($sql) = @_;
	utf8::encode($sql);
	my $out = $node->safe_psql('embed', $sql);
	utf8::decode($out);
	return $out;
}
query(q{SELECT vsim.create_model('uncased', 'tiny_bert.onnx', 'cjk_vocab.txt', '{"max_length": 16}');
	SELECT vsim.create_model('cased', 'tiny_bert.onnx', 'cjk_cased.json', '{"max_length": 16}')});

# --- long texts give the tokens of their prefix ------------------------------
# [text, a prefix of it (as SQL), the tokens]
my @cases = (
	[ q{repeat('中文字', 3000000)}, q{repeat('中文字', 10)},
		'{2,5,6,7,5,6,7,5,6,7,5,6,7,5,6,3}', '9M ideographs' ],
	[ q{repeat('ภาษาไทย๚', 1250000)}, q{repeat('ภาษาไทย๚', 10)},
		'{2,8,9,10,8,9,10,8,9,10,8,9,10,8,9,3}', '10M characters of Thai words and Thai punctuation' ],
	[ q{repeat('ภาษาไทย', 1430000) || '๚中'}, q{repeat('ภาษาไทย', 20) || '๚中'},
		'{2,1,10,5,3}', 'a Thai word of 10M characters, then more: [UNK] and what follows' ],
);
for my $model ('uncased', 'cased')
{
	for my $c (@cases)
	{
		my ($text, $prefix, $tokens, $what) = @$c;
		is(query("SELECT vsim.tokenize('$model', $text)"), $tokens, "$model: $what");
		is(query("SELECT vsim.tokenize('$model', $text) = vsim.tokenize('$model', $prefix)"), 't',
			"$model: ... the tokens of its prefix");
	}
}

# --- normalisation a character at a time -------------------------------------
is(query(q{SELECT vsim.tokenize('uncased', E'a\U0001D16D\U0001D165 ที่')}), '{2,13,11,3}',
	'uncased: marks put in canonical order, Thai vowel and tone marks stripped');
is(query(q{SELECT vsim.tokenize('cased', E'a\U0001D16D\U0001D165 ที่')}), '{2,1,12,3}',
	'cased: no NFD, marks kept as written');
for my $model ('uncased', 'cased')
{
	is(query(qq{SELECT vsim.tokenize('$model', E'a' || repeat(E'\\U0001D16D\\U0001D165', 100000) || ' 中')}),
		'{2,1,5,3}', "$model: a word of 200,001 characters (combining marks) is one [UNK], then the next");
}

# --- peak memory -----------------------------------------------------------------
# In a new backend for each text: its peak resident size (VmHWM) after
# building the text alone (md5 of it), then after tokenizing the same text.
# The text (60 MB for 20M three-byte characters, held twice by the plan)
# is in both; what the tokenizer adds is a few kB (one word of at most 101
# code points, the ids).  Decoding the text whole took at least 4 bytes
# per character (80 MB here; 300 MB measured for the ideographs), so a
# bound of 16 MB leaves room for allocator noise and catches any buffer the
# size of the text.
my $hwm = q{SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)')};
for my $t ([ 'uncased', q{repeat('中', 20000000)}, '20M ideographs' ],
	[ 'uncased', q{repeat('ภาษาไทย', 2860000)}, 'a 20M-character Thai word, read to its end' ],
	[ 'cased', q{repeat('ภาษาไทย', 2860000)}, '... the same without NFD' ])
{
	my ($model, $text, $what) = @$t;
	my ($text_kb, $tok_kb) = split /\n/, query(
		"SELECT FROM vsim.tokenize('$model', 'warm up'); SELECT FROM md5($text); $hwm;"
		  . "SELECT FROM vsim.tokenize('$model', $text); $hwm;");
	my $growth = ($tok_kb - $text_kb) / 1024;
	note sprintf('%s (%s): peak %.1f MB after building the text, %.1f MB after tokenizing it',
		$what, $model, $text_kb / 1024, $tok_kb / 1024);
	cmp_ok($growth, '<', 16, sprintf('%s: tokenizing adds %.1f MB to the peak memory', $what, $growth));
}

$node->stop;
done_testing();
