"""A text-processing pipeline: generated documents are tokenised, normalised, counted
(unigrams, bigrams, document frequency) and scored with TF-IDF; the corpus is half
processed before the move."""

import collections
import math
import random
import re
import unicodedata

import teleporter

rng = random.Random(42)
VOCAB = ("data model train loss graph node edge Café naïve résumé vector matrix batch epoch "
         "gradient the a of and to in is for on with").split()
STOP = {"the", "a", "of", "and", "to", "in", "is", "for", "on", "with"}
TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def make_doc(i):
    words = [rng.choice(VOCAB) for _ in range(rng.randint(40, 90))]
    sentences, pos = [], 0
    while pos < len(words):
        k = rng.randint(5, 12)
        sentences.append(" ".join(words[pos:pos + k]).capitalize() + rng.choice([".", "!", "?"]))
        pos += k
    return f"Doc {i}: " + " ".join(sentences)


def normalise(token):
    return unicodedata.normalize("NFKD", token.lower()).encode("ascii", "ignore").decode()


def tokens(text):
    return [normalise(t) for t in TOKEN.findall(text) if normalise(t) not in STOP and t.lower() != "doc"]


docs = [make_doc(i) for i in range(30)]
unigrams = collections.Counter()
bigrams = collections.Counter()
doc_freq = collections.Counter()
per_doc = []
for i, doc in enumerate(docs):
    toks = tokens(doc)
    per_doc.append(collections.Counter(toks))
    unigrams.update(toks)
    bigrams.update(zip(toks, toks[1:]))
    doc_freq.update(set(toks))
    if i == len(docs) // 2:
        print("processed", i + 1, "docs; top words:", unigrams.most_common(5))
        teleporter.teleport()

print("vocabulary:", len(unigrams), "tokens:", sum(unigrams.values()))
print("top words:", unigrams.most_common(6))
print("top bigrams:", [" ".join(b) for b, _ in bigrams.most_common(4)])
n_docs = len(docs)
for i in (0, 17, 29):
    scores = {w: c / sum(per_doc[i].values()) * math.log(n_docs / doc_freq[w]) for w, c in per_doc[i].items()}
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    print(f"doc {i} tf-idf:", [(w, round(s, 5)) for w, s in best])
sentences = re.split(r"(?<=[.!?])\s+", docs[3])
print("doc 3 sentences:", len(sentences), "longest:", max(len(s.split()) for s in sentences))
print("accents kept in source:", sum(d.count("é") for d in docs), "normalised:", normalise("Café naïve"))
