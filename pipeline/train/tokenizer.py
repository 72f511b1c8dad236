"""A lowercase WordPiece tokenizer learned from the captions, written as a HF tokenizer.json.

The Python encoder below mirrors @huggingface/transformers (BertNormalizer with clean_text, lowercase,
strip_accents; BertPreTokenizer; greedy longest-match WordPiece; [CLS] text [SEP]; truncate then pad to T = 16).
Every single character (and its ## continuation) is in the vocabulary, so unseen words and misspellings fall back
to subwords/characters instead of [UNK]. test/model checks that node gives identical ids.
"""
import collections
import json
import os
import string
import unicodedata

T = 16
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD, UNK, CLS, SEP = 0, 1, 2, 3
PREFIX = "##"


def normalize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs"):
            continue
        out.append(" " if ch.isspace() else ch)
    text = "".join(out).lower()
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _is_punct(ch):
    cp = ord(ch)
    if 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E:
        return True
    return unicodedata.category(ch).startswith("P")


def pre_tokenize(text):
    words, cur = [], []
    for ch in text.strip():
        if ch.isspace() or _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            if not ch.isspace():
                words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def learn_vocab(captions, size=3000):
    """BPE-style merges over caption words (counted with repetition); returns the WordPiece vocabulary list."""
    counts = collections.Counter(w for c in captions for w in pre_tokenize(normalize(c)))
    chars = sorted(set(string.ascii_lowercase + string.digits) | {ch for w in counts for ch in w})
    vocab = list(SPECIALS) + chars + [PREFIX + c for c in chars]
    seen = set(vocab)
    words = {w: [w[0]] + [PREFIX + c for c in w[1:]] for w in counts}
    while len(vocab) < size:
        pairs = collections.Counter()
        for w, syms in words.items():
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += counts[w]
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merged = a + b[len(PREFIX):]
        for w, syms in words.items():
            i, out = 0, []
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[w] = out
        if merged not in seen:
            seen.add(merged)
            vocab.append(merged)
    return vocab


class Tokenizer:
    def __init__(self, vocab):
        self.vocab = list(vocab)
        self.ids = {t: i for i, t in enumerate(self.vocab)}

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            v = json.load(f)["model"]["vocab"]
        return cls([t for t, _ in sorted(v.items(), key=lambda kv: kv[1])])

    def wordpiece(self, word):
        if len(word) > 100:
            return [UNK]
        out, start = [], 0
        while start < len(word):
            end, cur = len(word), None
            while start < end:
                sub = word[start:end] if start == 0 else PREFIX + word[start:end]
                if sub in self.ids:
                    cur = self.ids[sub]
                    break
                end -= 1
            if cur is None:
                return [UNK]
            out.append(cur)
            start = end
        return out

    def encode(self, text):
        ids = [CLS]
        for w in pre_tokenize(normalize(text)):
            ids.extend(self.wordpiece(w))
        ids.append(SEP)
        ids = ids[:T]
        return ids + [PAD] * (T - len(ids))

    def to_json(self):
        special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                    "normalized": False, "special": True} for i, t in enumerate(SPECIALS)]
        return {
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": T, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": T}, "direction": "Right", "pad_to_multiple_of": None,
                        "pad_id": PAD, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": special,
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": False,
                           "strip_accents": True, "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {t: {"id": t, "ids": [self.ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
            },
            "decoder": {"type": "WordPiece", "prefix": PREFIX, "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": PREFIX,
                      "max_input_chars_per_word": 100, "vocab": self.ids},
        }

    def save(self, directory):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "tokenizer.json"), "w") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=1)
        cfg = {"tokenizer_class": "BertTokenizer", "model_max_length": T, "do_lower_case": True,
               "strip_accents": True, "tokenize_chinese_chars": False, "padding_side": "right",
               "truncation_side": "right", "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]",
               "sep_token": "[SEP]", "clean_up_tokenization_spaces": True}
        with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
            json.dump(cfg, f, indent=1)


def all_captions(meta):
    caps = []
    for m in meta:
        caps.extend(m["captions"])
    return caps


def build(meta, directory):
    tok = Tokenizer(learn_vocab(all_captions(meta)))
    tok.save(directory)
    return tok
