"""Deterministic corpus for the sentiment conformance test and benchmark.

corpus(seed) returns a list of (rule, text) pairs: generated sentences that
exercise every rule of the VADER method (lexicon words, negation windows,
boosters and dampeners, ALL CAPS, punctuation, "but", "least", idioms,
emoticons, emoji, Unicode whitespace and letters) and realistic short posts.
Words come from the lexicon of the installed vaderSentiment package, so the
corpus follows the reference's data rather than a list written here.
"""

import random

from vaderSentiment import vaderSentiment as vs

NEGATIONS = ["not", "isn't", "never", "don't", "without", "cannot", "nothing",
             "wasn't", "aint", "nor", "rarely", "despite", "couldn't", "uh-uh"]
BOOSTERS = ["very", "really", "extremely", "so", "totally", "incredibly",
            "absolutely", "most", "more", "hella", "fucking", "uber"]
DAMPENERS = ["slightly", "somewhat", "barely", "kinda", "sorta", "hardly",
             "a little", "kind of", "sort of", "just enough", "marginally",
             "partly", "less", "almost"]
IDIOMS = ["the shit", "the bomb", "bad ass", "badass", "bus stop", "yeah right",
          "kiss of death", "to die for", "beating heart", "cut the mustard",
          "hand to mouth", "under the weather", "in the red", "on the ball"]
FILLERS = ["the", "service", "app", "it", "this", "that", "my", "loan", "card",
           "delivery", "today", "was", "is", "and", "a", "so", "this", "doubt",
           "at", "least", "very", "or", "no", "of", "kind", "but", "I", "we"]
SUBJECTS = ["The app", "Customer service", "My home loan application", "The delivery",
            "The new card", "This bank", "The branch staff", "The savings rate",
            "The parcel", "Their support team", "The mortgage process", "The fees"]
POST_GOOD = ["was great", "is amazing", "helped a lot", "made my day", "works perfectly",
             "was quick and friendly", "is the best", "impressed me", "was a pleasure"]
POST_BAD = ["was terrible", "is a joke", "wasted my time", "is so slow", "keeps crashing",
            "was rude", "is broken again", "ruined my weekend", "is ridiculous",
            "made me angry", "is a nightmare", "let me down"]
TAILS = ["", "!", "!!", "!!!", "!!!!!", "?", "??", "???", "????", ".", "...", " :)",
         " :(", " lol", " smh", " #fail", " #love", " :D", " <3", " :/", " =)"]
SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u2028", "\x1c", "\u0085"]
WORDS_UNICODE = ["café", "ÉCOLE", "naïve", "Ωμέγα", "ПРИВЕТ", "привет", "straße",
                 "ÅNGSTRÖM", "ＧＯＯＤ", "\u212aind", "İstanbul", "ÆON", "æon"]
WRAPS = [("(", ")"), ("\"", "\""), ("'", "'"), ("*", "*"), ("", "..."), ("#", ""),
         ("@", ""), ("", ","), ("", "!?"), ("[", "]"), ("_", "_")]


def _lexicon():
    a = vs.SentimentIntensityAnalyzer()
    words = [w for w in a.lexicon if w.isalpha() and w == w.lower()]
    emoticons = [w for w in a.lexicon if not w.isalpha() and " " not in w]
    pos = sorted(w for w in words if a.lexicon[w] > 0)
    neg = sorted(w for w in words if a.lexicon[w] < 0)
    single_emoji = sorted(e for e in a.emojis if len(e) == 1)
    multi_emoji = sorted(e for e in a.emojis if len(e) > 1)
    return pos, neg, sorted(emoticons), single_emoji, multi_emoji


def corpus(seed=20140601, per_rule=140):
    """The corpus: a list of (rule, text), at least 2,000 texts."""
    rnd = random.Random(seed)
    pos, neg, emoticons, emoji1, emojin = _lexicon()
    lex = pos + neg
    out = []

    def word():
        return rnd.choice(lex)

    def caps(w):
        return w.upper() if rnd.random() < 0.3 else w

    def filler(k):
        return " ".join(rnd.choice(FILLERS) for _ in range(k))

    def add(rule, text):
        out.append((rule, text))

    for _ in range(per_rule):
        add("lexicon", f"{filler(rnd.randint(0, 3))} {word()} {filler(rnd.randint(0, 3))}{rnd.choice(TAILS)}")
        add("negation", f"{filler(rnd.randint(0, 2))} {rnd.choice(NEGATIONS)} {filler(rnd.randint(0, 3))} {word()} {filler(rnd.randint(0, 2))}")
        add("negation-special",
            f"{rnd.choice(['never so', 'never this', 'without doubt', 'without a doubt', 'no', 'no way', 'not so', 'never'])} "
            f"{filler(rnd.randint(0, 1))} {word()} {rnd.choice(['or', 'nor', 'and'])} {word()}")
        add("booster",
            f"{filler(rnd.randint(0, 2))} {caps(rnd.choice(BOOSTERS + DAMPENERS))} {filler(rnd.randint(0, 2))} "
            f"{caps(rnd.choice(BOOSTERS + DAMPENERS))} {caps(word())}{rnd.choice(TAILS)}")
        add("caps", " ".join(caps(w) for w in f"{filler(2)} {word()} {filler(1)} {word()} {filler(1)}".split())
            + rnd.choice(TAILS))
        add("all-caps", f"{filler(2)} {word()} {word()}".upper() + rnd.choice(TAILS))
        add("punctuation", f"{word()} {filler(2)}" + "!" * rnd.randint(0, 7) + "?" * rnd.randint(0, 6)
            + rnd.choice(["", " ok", "?!", "!?"]))
        add("but", f"{filler(1)} {word()} {word()} {rnd.choice(['but', 'BUT', 'But,', 'but'])} "
            f"{filler(1)} {word()} {rnd.choice([word(), word(), 'good', 'bad'])} "
            f"{rnd.choice(['', 'but ' + word(), word() + ' ' + word()])}")
        add("repeated", " ".join([rnd.choice(['good', 'bad', 'love', word()]) for _ in range(rnd.randint(3, 8))])
            + rnd.choice(['', ' but good', ' but bad', ' but ' + word()]))
        add("least", f"{rnd.choice(['at least', 'very least', 'the least', 'least', 'At Least'])} "
            f"{filler(rnd.randint(0, 1))} {word()} {filler(1)}")
        add("idiom", f"{filler(rnd.randint(0, 3))} {rnd.choice(IDIOMS)} {rnd.choice(['', word(), filler(1)])} "
            f"{filler(rnd.randint(0, 2))} {word()}")
        add("kind-of", f"{filler(rnd.randint(0, 2))} {rnd.choice(['kind of', 'sort of', 'Kind of', 'just enough', 'kind'])} "
            f"{rnd.choice([word(), filler(1) + ' ' + word()])}{rnd.choice(TAILS)}")
        add("emoticon", f"{filler(2)} {word()} {rnd.choice(emoticons)}{rnd.choice(['', '!', '.'])} "
            f"{rnd.choice(emoticons)} {filler(1)}")
        e1, e2 = rnd.choice(emoji1), rnd.choice(emoji1 + emojin)
        add("emoji", rnd.choice([f"{filler(2)} {word()} {e1}", f"{word()}{e1}{e2} {filler(1)}",
                                 f"{e1} {e2}{rnd.choice(TAILS)}", f"{filler(1)}{e1}{filler(1)} {e2}{e2}",
                                 f"{e1}", f"{word()} \u200d{e1}\ufe0f {word()}"]))
        a, b = rnd.choice(WRAPS)
        add("tokens", f"{filler(1)} {a}{word()}{b} {rnd.choice(['a!', 'ok!', ':-)', '(:', '!!!', '...', '--', 'x.', 'no.'])} "
            f"{a}{rnd.choice(FILLERS)}{b} {word()}")
        add("unicode", rnd.choice(SPACES).join([rnd.choice(WORDS_UNICODE), word(), rnd.choice(WORDS_UNICODE).upper(),
                                               caps(word()), rnd.choice(FILLERS)]))
        add("post", f"{rnd.choice(SUBJECTS)} {rnd.choice(['', 'really ', 'not ', 'never ', 'kind of '])}"
            f"{rnd.choice(POST_GOOD + POST_BAD)}{rnd.choice(['', ', but ' + rnd.choice(SUBJECTS).lower() + ' ' + rnd.choice(POST_GOOD + POST_BAD)])}"
            f"{rnd.choice(TAILS)}{rnd.choice(['', ' ' + rnd.choice(emoji1), ' #bank', ' @support'])}")
    # random mixtures of words, emoji, letters of other scripts and separators
    pieces = lex + ["not", "no", "but", "BUT", "kind", "of", "least", "at", "very", "never", "so",
                    "this", "without", "doubt", "the", "shit", "bomb", "yeah", "right", "or", "nor",
                    "isn't", "sort", "just", "enough", "bus", "stop"] * 20
    letters = ["É", "ß", "Ω", "я", "Я", "İ", "\u212a", "ǅ", "Ǆ", "Ա", "ա", "Ꭰ", "ꭰ", "Ⓐ", "ⓐ", "𝐀", "ᾈ"]
    seps = [" "] * 8 + ["  ", "\t", "\n", "!", "?", ".", ",", "'", "\"", "(", ")", ":", "-", "\u00a0", "\u2003"]
    for _ in range(per_rule * 4):
        parts = []
        for _ in range(rnd.randint(1, 14)):
            r = rnd.random()
            w = rnd.choice(emoji1 + emojin) if r < 0.1 else rnd.choice(letters) if r < 0.15 else rnd.choice(pieces)
            parts.append(w.upper() if rnd.random() < 0.25 else w)
            parts.append(rnd.choice(seps) if rnd.random() < 0.3 else " ")
        add("fuzz", "".join(parts))
    # long texts with several "but"s and many equal valences: recgen applies
    # the "but" rule through per-value heaps above 64 words
    # (src/sentiment_but.c), the reference by its first-equal-value walk
    for _ in range(40):
        n = rnd.randint(65, 400)
        add("long-but", " ".join(rnd.choice(["good", "bad", "love", "not good", "very bad", "but",
                                             "BUT", word(), filler(1)]) for _ in range(n)))
    # edge cases, once each
    for t in ["", " ", "!!!", "?", ":)", "no", "No", "NO", "but", "good", "GOOD", "kind of",
              "kind", "least good", "at least good", "not", "n't good", "isn't", "a", "ab!",
              "\u00a0good\u00a0", "GOOD bad", "GOOD BAD", "good BAD!", "no no no good",
              "never so bad", "never this good", "without doubt good", "so good this good",
              "the shit the bomb", "yeah right, great", "kiss of death", "to die for good",
              "\U0001F600", "\U0001F600\U0001F600\U0001F600", "©®", "x" * 600,
              "good " * 300, "bad but " * 50]:
        add("edge", t)
    return out


if __name__ == "__main__":
    import sys
    items = corpus()
    print(len(items), file=sys.stderr)
    for rule, text in items[:40]:
        print(rule, repr(text))
