//! The stand-in for the service's embedding model: a deterministic text similarity, so memory
//! search can behave like a vector store (the scope's nearest memories, best first) offline.
//!
//! **This is not an embedding model.** It sees word forms and a small, fixed table of related
//! terms; it does not understand sentences. What it does, in order:
//!
//! 1. *Normalisation*: lower case; `c++`, `c#`, `f#`, `.net` spelled as words; split on every
//!    character that is not a letter or digit; possessive and contraction tails (`'s`, `'m`) and
//!    one-letter tokens dropped; [`STOP_WORDS`] dropped.
//! 2. *Stemming*: one suffix stripped by a small fixed list (`coding`, `code` → `cod`;
//!    `preferences`, `prefers` → `prefer`), a doubled final consonant undone (`preferred` →
//!    `prefer`).
//! 3. *Related terms*: [`RELATED`] maps words (and two-word phrases such as `vs code`) of the
//!    domains the examples use — programming languages, editors, operating systems, answer
//!    style, food and drink, pets, preferences, work, learning — to a shared concept, so
//!    `language` meets `Rust`, `editor` meets `VS Code`, `OS` meets `macOS`.
//! 4. *Character trigrams* of every remaining word, so words the table does not know still meet
//!    their variants (`Pythonic` and `Python`).
//!
//! Each text becomes a sparse vector of those features (stems weigh 1, concepts 0.9, a word's
//! trigrams 0.4 together), compared by cosine. Everything is a pure function of the two texts:
//! no randomness, no hashing seed, no floating-point order dependence (features are kept in a
//! `BTreeMap`), so rankings are identical across runs and machines.
//!
//! What it cannot do: see meaning outside its table (`beverage` does not meet `coffee` unless
//! listed), tell negation (`I hate tea` is near `I love tea`), or weigh a whole sentence's
//! intent. A scope's memories are still all *ranked*, as a vector store would rank them; only
//! the order may differ from the service's.

use std::collections::BTreeMap;

/// Words that carry no topic. Without them every memory would match every question on "the",
/// "user" (every extracted memory says "The user said") or "my".
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for",
    "from", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "know", "ll", "me", "mine", "more", "most", "mostly", "my",
    "myself", "of", "on", "or", "our", "out", "please", "re", "said", "she", "should", "so",
    "some", "summary", "tell", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "too", "us", "user", "ve", "very", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
    "your", "yours",
];

/// Related terms: each concept with the words and two-word phrases that evoke it. A word may
/// belong to several concepts. Entries are written as people write them; they are normalised
/// and stemmed like any text before matching.
pub const RELATED: &[(&str, &[&str])] = &[
    (
        "programming",
        &[
            "language",
            "languages",
            "programming",
            "program",
            "code",
            "coding",
            "coder",
            "developer",
            "develop",
            "software",
            "engineer",
            "script",
            "scripting",
            "stack",
            "python",
            "rust",
            "go",
            "golang",
            "java",
            "javascript",
            "typescript",
            "kotlin",
            "swift",
            "ruby",
            "php",
            "cpp",
            "csharp",
            "fsharp",
            "dotnet",
            "haskell",
            "scala",
            "elixir",
            "erlang",
            "clojure",
            "lua",
            "perl",
            "julia",
            "zig",
            "dart",
            "ocaml",
            "sql",
            "bash",
            "shell",
        ],
    ),
    (
        "editor",
        &[
            "editor",
            "ide",
            "vim",
            "neovim",
            "nvim",
            "emacs",
            "helix",
            "vscode",
            "vs code",
            "visual studio",
            "intellij",
            "pycharm",
            "goland",
            "rider",
            "jetbrains",
            "sublime",
            "nano",
            "zed",
            "xcode",
            "atom",
            "notepad",
            "cursor",
        ],
    ),
    (
        "operating_system",
        &[
            "os",
            "operating system",
            "linux",
            "macos",
            "mac",
            "osx",
            "windows",
            "ubuntu",
            "debian",
            "fedora",
            "arch",
            "nixos",
            "unix",
            "bsd",
            "freebsd",
            "wsl",
            "ios",
            "android",
            "distro",
            "laptop",
            "machine",
        ],
    ),
    (
        "answer_style",
        &[
            "answer",
            "response",
            "reply",
            "explanation",
            "explain",
            "style",
            "tone",
            "format",
            "formatted",
            "short",
            "brief",
            "concise",
            "terse",
            "succinct",
            "detailed",
            "verbose",
            "long",
            "thorough",
            "bullet",
            "list",
            "example",
            "step",
        ],
    ),
    (
        "food_drink",
        &[
            "food",
            "eat",
            "drink",
            "coffee",
            "tea",
            "roast",
            "espresso",
            "latte",
            "cappuccino",
            "beer",
            "wine",
            "juice",
            "breakfast",
            "lunch",
            "dinner",
            "meal",
            "snack",
            "vegetarian",
            "vegan",
            "pizza",
            "pasta",
            "sushi",
            "cuisine",
            "cook",
            "chocolate",
            "cake",
            "fruit",
            "spicy",
            "allergy",
            "allergic",
            "beverage",
            "morning",
        ],
    ),
    (
        "pets",
        &[
            "pet", "dog", "cat", "puppy", "kitten", "bird", "parrot", "fish", "hamster", "rabbit",
            "bunny", "turtle", "animal", "horse",
        ],
    ),
    (
        "preference",
        &[
            "prefer",
            "preference",
            "like",
            "love",
            "favourite",
            "favorite",
            "enjoy",
            "fan",
            "want",
            "hate",
            "dislike",
            "usual",
            "usually",
            "always",
            "choice",
        ],
    ),
    (
        "work",
        &[
            "work",
            "job",
            "role",
            "team",
            "company",
            "office",
            "career",
            "profession",
            "developer",
            "engineer",
        ],
    ),
    (
        "learning",
        &[
            "learn", "learning", "study", "studying", "course", "student", "beginner", "practice",
            "tutorial", "lesson", "topic",
        ],
    ),
];

/// Suffixes the stemmer strips (longest first, one per word, keeping at least three letters).
const SUFFIXES: &[&str] = &[
    "ations", "ation", "ements", "ement", "ences", "ence", "ances", "ance", "ities", "ings", "ity",
    "ing", "ies", "ied", "ly", "ed", "es", "s", "e",
];

/// Weights of the three kinds of features (see the module documentation).
const STEM_WEIGHT: f64 = 1.0;
const CONCEPT_WEIGHT: f64 = 0.9;
const TRIGRAMS_WEIGHT: f64 = 0.4;

/// The words of `text` after normalisation (step 1), before stemming.
pub fn words(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        .replace("c++", " cpp ")
        .replace("c#", " csharp ")
        .replace("f#", " fsharp ")
        .replace(".net", " dotnet ");
    lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '\u{2019}')
        .filter_map(|raw| {
            // "developer's" → "developer"; "i'm" → "i" (a stop word).
            let w = raw
                .split(['\'', '\u{2019}'])
                .next()
                .unwrap_or_default()
                .to_owned();
            (w.chars().count() >= 2 && !STOP_WORDS.contains(&w.as_str())).then_some(w)
        })
        .collect()
}

/// The stem of one normalised word (step 2).
pub fn stem(word: &str) -> String {
    let letters = |s: &str| s.chars().count();
    for suffix in SUFFIXES {
        if let Some(base) = word.strip_suffix(suffix)
            && letters(base) >= 3
        {
            let mut base = base.to_owned();
            if matches!(*suffix, "ies" | "ied") {
                base.push('y');
            }
            let chars: Vec<char> = base.chars().collect();
            if let [.., a, b] = chars.as_slice()
                && a == b
                && !matches!(a, 'l' | 's' | 'z' | 'e' | 'o')
                && a.is_alphabetic()
            {
                base.pop();
            }
            return base;
        }
    }
    word.to_owned()
}

/// The stems of `text`, in order (duplicates kept, so phrases can be found).
fn stems(text: &str) -> Vec<String> {
    words(text).iter().map(|w| stem(w)).collect()
}

/// The concepts a stemmed text evokes, through single words and two-word phrases.
fn concepts(stems: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (concept, terms) in RELATED {
        let hit = terms.iter().any(|term| {
            let term = self::stems(term);
            match term.as_slice() {
                [one] => stems.contains(one),
                [first, second] => stems.windows(2).any(|w| w[0] == *first && w[1] == *second),
                _ => false,
            }
        });
        if hit {
            out.push(*concept);
        }
    }
    out
}

/// A text as a sparse, unit-length feature vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector(BTreeMap<String, f64>);

impl Vector {
    /// Whether the text had no feature at all (only stop words, or nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The feature vector of `text` (steps 1–4).
pub fn embed(text: &str) -> Vector {
    let stems = stems(text);
    let mut features: BTreeMap<String, f64> = BTreeMap::new();
    for s in &stems {
        features.insert(format!("w:{s}"), STEM_WEIGHT);
        let padded: Vec<char> = format!("^{s}$").chars().collect();
        let grams: Vec<String> = padded
            .windows(3)
            .map(|w| w.iter().collect::<String>())
            .collect();
        let each = TRIGRAMS_WEIGHT / (grams.len().max(1) as f64).sqrt();
        for g in grams {
            *features.entry(format!("g:{g}")).or_default() += each;
        }
    }
    for c in concepts(&stems) {
        features.insert(format!("c:{c}"), CONCEPT_WEIGHT);
    }
    let norm = features.values().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for v in features.values_mut() {
            *v /= norm;
        }
    }
    Vector(features)
}

/// Cosine similarity of two vectors, in `0.0..=1.0`.
pub fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.0.len() <= b.0.len() {
        (a, b)
    } else {
        (b, a)
    };
    small
        .0
        .iter()
        .filter_map(|(k, v)| large.0.get(k).map(|w| v * w))
        .sum()
}

/// The similarity of two texts.
pub fn similarity(a: &str, b: &str) -> f64 {
    cosine(&embed(a), &embed(b))
}

/// Ranks `documents` by similarity to `query`: `(index, score)`, best first; equal scores keep
/// the documents' order. Every document is ranked, however low its score, as a vector store
/// ranks all its vectors.
pub fn rank(query: &str, documents: &[&str]) -> Vec<(usize, f64)> {
    let q = embed(query);
    let mut scored: Vec<(usize, f64)> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (i, cosine(&q, &embed(d))))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index of the best document for `query`.
    fn best(query: &str, documents: &[&str]) -> usize {
        rank(query, documents)[0].0
    }

    /// `related` scores strictly above every one of `unrelated` for `query`.
    fn above(query: &str, related: &str, unrelated: &[&str]) {
        let r = similarity(query, related);
        for u in unrelated {
            let s = similarity(query, u);
            assert!(
                r > s,
                "{query:?}: {related:?} scored {r:.3}, not above {u:?} ({s:.3})"
            );
        }
    }

    const UNRELATED: &[&str] = &[
        "The user said: my dog is called Biscuit.",
        "The user said: I drink green tea in the afternoon.",
        "The user said: I live in Lisbon.",
    ];

    #[test]
    fn stems_join_word_forms() {
        assert_eq!(stem("coding"), stem("code"));
        assert_eq!(stem("preferences"), "prefer");
        assert_eq!(stem("prefers"), "prefer");
        assert_eq!(stem("preferred"), "prefer");
        assert_eq!(stem("languages"), stem("language"));
        assert_eq!(stem("replies"), "reply");
        assert_eq!(stem("uses"), "use");
        assert_eq!(stem("go"), "go");
    }

    #[test]
    fn normalisation_drops_stop_words_possessives_and_spells_symbols() {
        assert_eq!(
            words("What are this developer's C++ and C# preferences?"),
            ["developer", "cpp", "csharp", "preferences"]
        );
        assert!(embed("What is it that you would do?").is_empty());
    }

    #[test]
    fn coding_preferences_find_the_python_memory() {
        above(
            "What are this developer's coding preferences?",
            "The user said: I work mostly in Python and I like short, code-first answers.",
            UNRELATED,
        );
    }

    #[test]
    fn languages_meet_their_names() {
        above(
            "Which programming language?",
            "The user said: I write Rust on Linux.",
            UNRELATED,
        );
        above(
            "What language does the user know best?",
            "The user said: I am fluent in Python.",
            UNRELATED,
        );
    }

    #[test]
    fn editors_meet_their_names_and_two_word_names() {
        above(
            "Which editor do I use?",
            "The user said: I spend my days in VS Code.",
            UNRELATED,
        );
        above(
            "Which IDE should I open?",
            "The user said: My favourite editor is Helix.",
            &["The user said: I write Rust on Linux and prefer terse answers."],
        );
    }

    #[test]
    fn operating_systems_meet_os() {
        for memory in [
            "The user said: I am on macOS.",
            "The user said: I run Linux at home.",
        ] {
            above("Which OS does the user run?", memory, UNRELATED);
        }
    }

    #[test]
    fn answer_style_food_and_pets_have_their_neighbours() {
        above(
            "How should replies be formatted?",
            "The user said: I want answers as bullet points.",
            &["The user said: I write Rust on Linux and prefer terse answers."],
        );
        above(
            "Any favourite beverage?",
            "The user said: I prefer dark roast coffee.",
            &[UNRELATED[0], UNRELATED[2]],
        );
        above(
            "Does the user have animals at home?",
            UNRELATED[0],
            &[UNRELATED[1], UNRELATED[2]],
        );
    }

    #[test]
    fn trigrams_catch_forms_the_table_does_not_know() {
        above(
            "Pythonic idioms",
            "The user said: I write Python.",
            &["The user said: I write Go."],
        );
    }

    #[test]
    fn every_document_is_ranked_and_ties_keep_their_order() {
        let docs = ["alpha", "beta", "gamma"];
        let ranked = rank("nothing in common", &docs);
        assert_eq!(ranked.len(), 3);
        assert_eq!(
            ranked.iter().map(|r| r.0).collect::<Vec<_>>(),
            [0, 1, 2],
            "equal scores keep the documents' order"
        );
        assert_eq!(best("green tea", &["alpha", "I drink green tea"]), 1);
    }

    #[test]
    fn the_ranking_is_a_pure_function_of_the_texts() {
        let q = "What are this developer's coding preferences?";
        let d = "The user said: I work mostly in Python and I like short, code-first answers.";
        let first = similarity(q, d);
        for _ in 0..5 {
            assert_eq!(similarity(q, d).to_bits(), first.to_bits());
        }
        assert!((similarity(d, d) - 1.0).abs() < 1e-9);
        assert_eq!(similarity(q, d).to_bits(), similarity(d, q).to_bits());
    }
}
