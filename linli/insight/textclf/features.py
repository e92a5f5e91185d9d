"""Turning messages (title, body) into the sparse matrix the linear model scores.

A model is a list of **blocks**, each TF-IDF weighted (sublinear tf, smoothed idf) and
L2-normalised on its own, so a long body cannot drown the title. A block takes either the
character n-grams or the words (:mod:`.segment`) of one part of the message: the title, or
the title and the body together (the body possibly cut to its first ``body_chars``
characters). The blocks are stored in the model file, so a model always rebuilds the
features it was trained on.

Every term is an int64 **key**, so a vocabulary is a sorted key array, and looking up the
terms of all messages is one vectorised hash-table probe (:class:`.segment.KeyTable`):

* a character n-gram (n ≤ 3) packs its code points plus one, 21 bits each:
  ``(c1+1) << 42 | (c2+1) << 21 | (c3+1)``. Code points are below 2^21 and the leading
  field is never zero, so n-grams of different lengths never share a key;
* a word is a 63-bit polynomial hash of its code points (:mod:`.segment`; a collision among
  the ~10^5 words of a vocabulary has a chance of about 10^-9).

The n-grams of all messages are formed together from one code-point array, with no Python
loop per character: that is what makes prediction fast. Training and prediction share this
code, so the figures measured in cross-validation are those of the code that predicts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from . import segment

_SPACE = re.compile(r"\s+")
_BITS = 21
MAX_N = 3  # 3 × 21 bits fit in an int64
_jieba = None


@dataclass(frozen=True)
class Block:
    """One block of features: ``kind`` "chars" (n-grams, lo ≤ n ≤ hi), "words" (:mod:`.segment`)
    or "jieba" (jieba itself, format-1 models only) of ``source`` "title" or "all" (title and
    body); ``body_chars`` > 0 cuts the body to its first characters."""

    name: str
    source: str
    kind: str
    lo: int = 1
    hi: int = 1
    body_chars: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Block":
        block = cls(**{k: data[k] for k in ("name", "source", "kind", "lo", "hi", "body_chars")})
        if (block.source not in ("title", "all") or block.kind not in ("chars", "words", "jieba")
                or not 1 <= block.lo <= block.hi <= MAX_N):
            raise ValueError(f"unknown block {data}")
        return block


# The blocks of a new model (docs/classifier.md has the cross-validation behind each choice):
# character 1–3-grams of the title; character 2–3-grams of title and body (1-grams there add
# nothing the words lack); the words of title and whole body.
BLOCKS = (
    Block("title_chars", "title", "chars", 1, 3),
    Block("all_chars", "all", "chars", 2, 3),
    Block("all_words", "all", "words"),
)
# The blocks of format 1 models, which stored no block list.
BLOCKS_V1 = (
    Block("title_chars", "title", "chars", 1, 3),
    Block("all_chars", "all", "chars", 1, 2),
    Block("all_words", "all", "jieba", body_chars=300),
)


def _segmenter():
    """jieba's default tokenizer, initialised once per process and kept quiet. Its prefix
    dictionary is cached (marshal) in the system temp directory after the first run."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


def clean(text: str) -> str:
    return _SPACE.sub(" ", text or "").strip()


def char_ngrams(texts: Sequence[str], lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """(text index, key) of every character n-gram of every text, lo ≤ n ≤ hi."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = segment.code_points(texts).astype(np.int64) + 1
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    end = np.repeat(np.cumsum(lengths), lengths)  # where each position's own text ends
    position = np.arange(len(codes), dtype=np.int64)
    docs, keys = [], []
    for n in range(lo, hi + 1):
        at = position[position + n <= end]
        key = codes[at]
        for j in range(1, n):
            key = (key << _BITS) | codes[at + j]
        docs.append(doc[at])
        keys.append(key)
    return np.concatenate(docs), np.concatenate(keys)


def ngram_key(gram: str) -> int:
    """The key of one n-gram, the slow plain way (for vocabulary listings and tests)."""
    key = 0
    for ch in gram:
        key = (key << _BITS) | (ord(ch) + 1)
    return key


def jieba_words(texts_by_message: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(message index, key) of the words ``jieba.lcut(HMM=False)`` gives for each message's
    texts (cut separately): the word blocks of format-1 models, which were trained on them."""
    cut = _segmenter().lcut
    ids: dict[str, int] = {}
    docs: list[int] = []
    found: list[int] = []
    for i, texts in enumerate(texts_by_message):
        for text in texts:
            if not text:
                continue
            for word in cut(text, HMM=False):
                if word != " ":
                    found.append(ids.setdefault(word, len(ids)))
                    docs.append(i)
    table = segment.text_keys(list(ids)) if ids else np.zeros(0, dtype=np.int64)
    return np.array(docs, dtype=np.int64), table[np.array(found, dtype=np.int64)]


_default_lexicon: segment.Lexicon | None = None


def default_lexicon() -> segment.Lexicon:
    """jieba's dictionary as a :class:`segment.Lexicon` (read once per process; training only:
    a model carries its own copy)."""
    global _default_lexicon
    if _default_lexicon is None:
        _default_lexicon = segment.Lexicon(*segment.jieba_lexicon())
    return _default_lexicon


@dataclass
class Terms:
    """The term occurrences of ``n`` messages: per block, (message index, key) arrays."""

    n: int
    blocks: list[tuple[np.ndarray, np.ndarray]]

    def take(self, index: np.ndarray) -> "Terms":
        """The messages at ``index``, renumbered in that order (for cross-validation)."""
        new = np.full(self.n, -1, dtype=np.int64)
        new[index] = np.arange(len(index))
        taken = []
        for doc, key in self.blocks:
            mapped = new[doc]
            keep = mapped >= 0
            taken.append((mapped[keep], key[keep]))
        return Terms(len(index), taken)


def extract(messages: Sequence[tuple[str, str]], blocks: Sequence[Block] = BLOCKS,
            lexicon: segment.Lexicon | None = None) -> Terms:
    """The terms of each block for (title, body) messages (a title alone is a valid message).
    ``lexicon`` segments the word blocks (default: jieba's dictionary)."""
    titles = [clean(title) for title, _text in messages]
    bodies = [clean(text) for _title, text in messages]
    result = []
    for block in blocks:
        cut = [body[:block.body_chars] for body in bodies] if block.body_chars else bodies
        joined = titles if block.source == "title" else [f"{t} {b}" if b else t for t, b in zip(titles, cut)]
        if block.kind == "chars":
            result.append(char_ngrams(joined, block.lo, block.hi))
        elif block.kind == "words":
            result.append(segment.cut(joined, lexicon or default_lexicon()))
        else:
            result.append(jieba_words([(t,) for t in titles] if block.source == "title" else list(zip(titles, cut))))
    return Terms(len(messages), result)


def build_vocabularies(terms: Terms, *, min_df: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per block: the keys seen in at least ``min_df`` messages (sorted) and their smoothed idf."""
    vocabularies, idfs = [], []
    for doc, key in terms.blocks:
        order = np.lexsort((doc, key))
        key, doc = key[order], doc[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = (key[1:] != key[:-1]) | (doc[1:] != doc[:-1])
        keys, df = np.unique(key[first], return_counts=True)  # each message counted once
        keep = df >= min_df
        vocabularies.append(keys[keep].astype(np.int64))
        # sklearn's smooth idf: ln((1 + n) / (1 + df)) + 1
        idfs.append((np.log((1 + terms.n) / (1 + df[keep])) + 1).astype(np.float32))
    return vocabularies, idfs


class Vectorizer:
    """Terms → one CSR matrix with the blocks side by side."""

    def __init__(self, vocabularies: list[np.ndarray], idfs: list[np.ndarray]):
        self.vocabularies = vocabularies
        self.idfs = idfs
        self.tables = [segment.KeyTable(v, np.arange(len(v), dtype=np.int64), -1) for v in vocabularies]

    @property
    def n_features(self) -> int:
        return int(sum(len(v) for v in self.vocabularies))

    def transform(self, terms: Terms) -> sp.csr_matrix:
        return sp.hstack([_block_matrix(doc, key, table, idf, terms.n) for (doc, key), table, idf
                          in zip(terms.blocks, self.tables, self.idfs)], format="csr", dtype=np.float32)


def _block_matrix(doc: np.ndarray, key: np.ndarray, table: segment.KeyTable, idf: np.ndarray,
                  n: int) -> sp.csr_matrix:
    """Sublinear tf × idf of one block, each row L2-normalised (a row without terms stays zero)."""
    column = table.lookup(key)
    hit = column >= 0
    # Duplicates (a term occurring twice) are summed by scipy's linear-time COO → CSR conversion.
    matrix = sp.csr_matrix((np.ones(int(hit.sum()), dtype=np.float32), (doc[hit], column[hit])),
                           shape=(n, len(idf)))
    matrix.sum_duplicates()
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    row = np.repeat(np.arange(n), np.diff(matrix.indptr))
    norm = np.sqrt(np.bincount(row, weights=matrix.data * matrix.data, minlength=n)).astype(np.float32)
    matrix.data /= norm[row]
    return matrix
