#!/usr/bin/python3
"""Reference BERT WordPiece tokenizer for vsim's tokenizer test.

An independent implementation, in Python with unicodedata, of the BERT
uncased tokenizer rules (the HuggingFace BertNormalizer / BertPreTokenizer /
WordPiece pipeline): clean text, isolate CJK ideographs, NFD and drop
nonspacing marks, lower-case character by character, split on whitespace
and punctuation, greedy longest-match WordPiece with "##", [UNK] for words
that do not split or exceed 100 characters, [CLS] ... [SEP], truncation.

    wordpiece_ref.py corpus VOCAB CORPUS_DIR MAX_LENGTH OUT
        writes OUT for COPY: id <TAB> text <TAB> expected ids ("{101,...}"),
        for the texts of the corpora plus hand-written non-ASCII cases;
        prints "texts=N non_ascii=M"
"""
import csv
import sys
import unicodedata


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n").rstrip("\r"): i for i, line in enumerate(f)}


def is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in (
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)))


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def normalize(text):
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r" or cat in ("Zs", "Zl", "Zp"):
            out.append(" ")
        elif ch in ("\x00", "\ufffd") or cat.startswith("C"):
            continue
        elif is_cjk(ord(ch)):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    # per character, as the Rust tokenizers do (no final-sigma context rule)
    return "".join(c.lower() for c in stripped)


def pre_tokenize(text):
    words = []
    for chunk in text.split(" "):
        current = ""
        for ch in chunk:
            if is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


def wordpiece(word, vocab):
    if len(word) > 100:
        return [vocab["[UNK]"]]
    pieces, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                pieces.append(vocab[piece])
                start = end
                break
        else:
            return [vocab["[UNK]"]]
    return pieces


def tokenize(text, vocab, max_length):
    ids = []
    for word in pre_tokenize(normalize(text)):
        ids.extend(wordpiece(word, vocab))
    return [vocab["[CLS]"]] + ids[:max_length - 2] + [vocab["[SEP]"]]


HAND_WRITTEN = [
    "Hello, world!",
    "Café crème brûlée à la mode, naïve façade, Ångström, São Paulo, Zürich",
    "İstanbul ıspanak ŞEHİR; Straße GROSS ß; ﬁnance ﬂow (ligatures)",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ καὶ ἡ Ἀθηνᾶ",
    "Русский текст: Москва, Ёлка, щука!",
    "中文文本：北京欢迎你。日本語のテキスト、東京タワー。",
    "한국어 텍스트: 서울특별시 (Hangul decomposes under NFD)",
    "العربية: مرحبا بالعالم؟ עברית: שלום עולם",
    "emoji 😀👍🏽 and ZWJ family 👨‍👩‍👧 end",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom and soft\u00adhyphen",
    "control\x01chars\x07here\x1ftoo\x7fdel",
    "nbsp\u00a0space\u3000ideographic\u2028line\u2029para\u2003em",
    "combining: e\u0301 a\u0308 o\u0302 n\u0303 (decomposed input)",
    "math ∑∫√∞ ≤≥ ± × ÷ € £ ¥ © ® ™ § ¶ † ‡ • … ‰ ′ ″",
    "quotes “double” ‘single’ «guillemets» „low“ — en–dash",
    "x" * 101 + " long word over the limit, and " + "y" * 100 + " exactly 100",
    "Unicode compatibility: Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ｶﾀｶﾅ",
    "Vietnamese: Tiếng Việt có dấu; Polish: Zażółć gęślą jaźń",
    "Thai: ภาษาไทย Devanagari: हिन्दी भाषा Tamil: தமிழ்",
    "tabs\tand\nnewlines\r\nmixed   spaces",
    "a\u0130b \u0130 lower of dotted capital I",
    "punctuation!!!???...---___***&&&@@@###",
]


def corpus_texts(corpus_dir):
    with open(f"{corpus_dir}/ag_news_test.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["title"] + " " + row["description"]
    with open(f"{corpus_dir}/tmdb_5000_movies.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["title"] + ". " + row["overview"]
    with open(f"{corpus_dir}/IMDB-Movie-Data.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["Title"] + ": " + row["Description"]


def copy_escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


def corpus(vocab_path, corpus_dir, max_length, out):
    vocab = load_vocab(vocab_path)
    max_length = int(max_length)
    texts = HAND_WRITTEN + list(corpus_texts(corpus_dir))
    non_ascii = 0
    with open(out, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            non_ascii += any(ord(c) > 127 for c in text)
            ids = tokenize(text, vocab, max_length)
            f.write(f"{i}\t{copy_escape(text)}\t{{{','.join(map(str, ids))}}}\n")
    print(f"texts={len(texts)} non_ascii={non_ascii}")


if __name__ == "__main__":
    if sys.argv[1] == "corpus":
        corpus(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
