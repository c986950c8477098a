#!/usr/bin/python3
"""sklearn_check.py: compare vsim's text vectorizers with scikit-learn.

Used by test/t/065_text_vectorizers.pl.  The test exports what vsim computed
to CSV files (COPY ... TO, so both sides read the very same strings); each
subcommand computes scikit-learn's result for the same input and prints one
JSON object saying how the two compare.

  docs.csv        id,text                      the documents
  tokens.csv      id,json array of tokens      vsim.text_tokens(text)
  vocab.csv       term,position,df,occurrences,idf   a vsim.tfidf_fit table
  vectors.csv     id,vector                    vsim's vectors ([x1,x2,...])

Subcommands:
  tokens DOCS TOKENS                 CountVectorizer().build_analyzer()
  tfidf DOCS VOCAB VECTORS [MAX [SAMPLE]]
                                     TfidfVectorizer(max_features=MAX) fitted on
                                     DOCS (MAX 0: no limit); vsim's vectors are
                                     those of DOCS, or of the documents in the
                                     file SAMPLE (same form) when given
  hashing DOCS VECTORS DIMS          HashingVectorizer(n_features=DIMS, norm=None)
  hasher TOKENS VECTORS DIMS         FeatureHasher(n_features=DIMS, input_type='string')
  unicode-docs OUT                   documents with every code point Python knows
  intmin-token                       a token whose MurmurHash3 is -2**31
"""
import csv
import itertools
import json
import string
import sys
import unicodedata

import numpy as np
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import (CountVectorizer, HashingVectorizer,
                                             TfidfVectorizer)
from sklearn.utils import murmurhash3_32

csv.field_size_limit(1 << 30)


def read_docs(path):
    with open(path, encoding='utf-8', newline='') as f:
        rows = [(int(r[0]), r[1]) for r in csv.reader(f)]
    return [r[0] for r in rows], [r[1] for r in rows]


def read_tokens(path):
    with open(path, encoding='utf-8', newline='') as f:
        return {int(r[0]): json.loads(r[1]) for r in csv.reader(f)}


def read_vectors(path, ids, dims):
    """vsim's vectors as a float64 matrix, rows in the order of ids."""
    row = {i: k for k, i in enumerate(ids)}
    out = np.zeros((len(ids), dims))
    with open(path, newline='') as f:
        for r in csv.reader(f):
            out[row[int(r[0])]] = np.fromstring(r[1][1:-1], sep=',')
    return out


def compare(ours, theirs):
    """Largest absolute difference and count of differing non-zero patterns."""
    return {'max_abs_diff': float(np.abs(ours - theirs).max()),
            'pattern_diffs': int(((ours != 0) != (theirs != 0)).sum()),
            'nonzeros': int((theirs != 0).sum())}


def cmd_tokens(docs_path, tokens_path):
    ids, docs = read_docs(docs_path)
    ours = read_tokens(tokens_path)
    analyze = CountVectorizer().build_analyzer()
    diffs = [(i, d) for i, d in zip(ids, docs) if analyze(d) != ours[i]]
    first = None
    if diffs:
        i, d = diffs[0]
        first = {'id': i, 'sklearn': analyze(d), 'vsim': ours[i]}
    return {'documents': len(ids), 'tokens': sum(len(t) for t in ours.values()),
            'differ': len(diffs), 'first': first}


def cmd_tfidf(docs_path, vocab_path, vectors_path, max_features='0', sample_path=None):
    ids, docs = read_docs(docs_path)
    sample_ids, sample = read_docs(sample_path) if sample_path else (ids, docs)
    max_features = int(max_features) or None
    with open(vocab_path, encoding='utf-8', newline='') as f:
        vocab = [(r[0], int(r[1]), int(r[2]), int(r[3]), float(r[4])) for r in csv.reader(f)]
    vocab.sort(key=lambda t: t[1])
    terms = [t[0] for t in vocab]
    sk = TfidfVectorizer(max_features=max_features).fit(docs)
    sk_terms = list(sk.get_feature_names_out())
    result = {'terms': len(terms), 'sklearn_terms': len(sk_terms),
              'same_vocabulary': terms == sk_terms}
    # The same vocabulary given to scikit-learn: idf from the same documents.
    fixed = TfidfVectorizer(vocabulary=terms).fit(docs)
    result['max_idf_diff'] = float(np.abs(fixed.idf_ - np.array([t[4] for t in vocab])).max())
    result.update(compare(read_vectors(vectors_path, sample_ids, len(terms)),
                          fixed.transform(sample).toarray()))
    result['documents'] = len(sample)
    if max_features:
        # max_features: the terms kept, by occurrences, against scikit-learn's
        counter = CountVectorizer()
        counts = np.asarray(counter.fit_transform(docs).sum(axis=0)).ravel()
        names = list(counter.get_feature_names_out())
        occurrences = dict(zip(names, counts.tolist()))
        cut = min(occurrences[t] for t in terms)
        tied = sorted(t for t in names if occurrences[t] == cut)
        ours_tied = sorted(t for t in terms if occurrences[t] == cut)
        sk_tied = sorted(t for t in sk_terms if occurrences[t] == cut)
        result.update({
            'cut_occurrences': cut, 'tied_at_cut': len(tied),
            'kept_at_cut': len(ours_tied), 'sklearn_kept_at_cut': len(sk_tied),
            'same_above_cut': sorted(t for t in terms if occurrences[t] > cut)
            == sorted(t for t in sk_terms if occurrences[t] > cut),
            'kept_at_cut_are_first_in_term_order': ours_tied == tied[:len(ours_tied)],
            'kept_at_cut_also_kept_by_sklearn': len(set(ours_tied) & set(sk_tied)),
            'occurrences_match': all(occurrences[t[0]] == t[3] for t in vocab)})
    return result


def cmd_hashing(docs_path, vectors_path, dims):
    ids, docs = read_docs(docs_path)
    sk = HashingVectorizer(n_features=int(dims), norm=None).transform(docs).toarray()
    return compare(read_vectors(vectors_path, ids, int(dims)), sk)


def cmd_hasher(tokens_path, vectors_path, dims):
    tokens = read_tokens(tokens_path)
    ids = sorted(tokens)
    sk = FeatureHasher(n_features=int(dims), input_type='string').transform(
        [tokens[i] for i in ids]).toarray()
    return compare(read_vectors(vectors_path, ids, int(dims)), sk)


def cmd_unicode_docs(out_path):
    """Every code point this Python's Unicode database assigns (but NUL and
    surrogates), 64 to a document, each between letters ("a" + c + "b"),
    then after and before a space; and capital sigma in the contexts of
    final sigma."""
    known = [c for c in range(1, 0x110000)
             if not 0xD800 <= c < 0xE000 and unicodedata.category(chr(c)) != 'Cn']
    docs = []
    for k in range(0, len(known), 64):
        chunk = [chr(c) for c in known[k:k + 64]]
        docs.append(' '.join('A%sB x%s %sy' % (c, c, c) for c in chunk))
    sigma = ['ΑΣ', 'ΑΣΑ', 'Σ', 'ΑΣ\'', 'Α\'Σ', 'ΑΣ\'Α', 'Α.Σ.', 'ΣΣ', 'ΑΣΣ', 'ΑΣ\u0301',
             'Α\u0301Σ', 'ª\u0345Σ', 'ⅰΣ', 'Σⓐ', 'ΑΣ\u00adΒ', 'ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΙΣΥΦΟΣ',
             'İSTANBUL İi', 'ǅungla ǅ', 'ΑΣ-Β', 'ΑΣ_Β', 'ΑΣ1', '1Σ']
    docs.extend(' '.join(itertools.repeat(s, 2)) for s in sigma)
    with open(out_path, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f)
        for i, d in enumerate(docs, 1):
            w.writerow([i, d])
    return {'documents': len(docs), 'code_points': len(known),
            'unicode': unicodedata.unidata_version}


def cmd_intmin_token():
    """Invert MurmurHash3_x86_32 (seed 0) for 8-byte keys: for 4 fixed
    lowercase bytes, solve for the last block that gives -2**31, until that
    block is 4 lowercase letters or digits too."""
    m = 0xFFFFFFFF
    c1, c2, n = 0xCC9E2D51, 0x1B873593, 0xE6546B64

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    def inv(a):
        return pow(a, -1, 1 << 32)

    def unshift(y, s):
        x = y
        for _ in range(32 // s + 1):
            x = y ^ (x >> s)
        return x & m

    def unfinalize(h):
        h = unshift(h, 16)
        h = (h * inv(0xC2B2AE35)) & m
        h = unshift(h, 13)
        h = (h * inv(0x85EBCA6B)) & m
        return unshift(h, 16)

    wanted = set((string.ascii_lowercase + string.digits).encode())
    for p in itertools.product(string.ascii_lowercase, repeat=4):
        first = ''.join(p).encode()
        k1 = (rotl((int.from_bytes(first, 'little') * c1) & m, 15) * c2) & m
        h1 = (rotl(k1, 13) * 5 + n) & m
        mixed = rotl((((unfinalize(0x80000000) ^ 8) - n) * inv(5)) & m, 32 - 13)
        k2 = (rotl(((mixed ^ h1) * inv(c2)) & m, 32 - 15) * inv(c1)) & m
        last = k2.to_bytes(4, 'little')
        if set(last) <= wanted:
            token = (first + last).decode()
            return {'token': token, 'murmurhash3_32': murmurhash3_32(token, seed=0)}
    raise SystemExit('no token found')


def main():
    commands = {'tokens': cmd_tokens, 'tfidf': cmd_tfidf, 'hashing': cmd_hashing,
                'hasher': cmd_hasher, 'unicode-docs': cmd_unicode_docs,
                'intmin-token': cmd_intmin_token}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    print(json.dumps(commands[sys.argv[1]](*sys.argv[2:]), ensure_ascii=False))


if __name__ == '__main__':
    main()
