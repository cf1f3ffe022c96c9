//! "Did you mean …?" for misspelt keys and kinds.

/// The candidate closest to `word` by edit distance, if it is close enough to be a plausible
/// typo (at most a third of the word's length, and at least one edit allowed).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // A truncated key (`memory_store` for `memory_store_name`) is a typo too.
    if let Some(prefixed) = candidates
        .iter()
        .find(|c| word.len() >= 4 && (c.starts_with(word) || word.starts_with(**c)))
    {
        return Some(prefixed);
    }
    candidates
        .into_iter()
        .map(|c| {
            (
                distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment), since
/// swapped letters are the commonest typo. Inputs are short keys, so O(n·m) is fine.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Splits a serde "unknown field `x`, expected one of `a`, `b`" message (either library's
/// spelling) into the unknown name and the expected names.
pub fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (name, rest) = rest.split_once('`')?;
    let expected = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map(|(_, list)| {
            list.split(", ")
                .map(|s| s.trim().trim_matches('`').to_owned())
                .filter(|s| !s.is_empty() && s != "there are no fields")
                .collect()
        })
        .unwrap_or_default();
    Some((name.to_owned(), expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_typos_are_suggested_and_far_ones_are_not() {
        let keys = ["temperature", "top_p", "tools", "model"];
        assert_eq!(did_you_mean("temprature", keys), Some("temperature"));
        assert_eq!(did_you_mean("modle", keys), Some("model"));
        assert_eq!(did_you_mean("colour", keys), None);
        assert_eq!(
            did_you_mean("memorystore", ["MemoryStore", "Agent"]),
            Some("MemoryStore")
        );
    }

    #[test]
    fn unknown_field_messages_of_both_libraries_parse() {
        let (name, expected) =
            parse_unknown_field("unknown field `temprature`, expected one of name, flag").unwrap();
        assert_eq!(name, "temprature");
        assert_eq!(expected, ["name", "flag"]);
        let (name, expected) =
            parse_unknown_field("unknown field `x`, expected one of `a`, `b`").unwrap();
        assert_eq!(name, "x");
        assert_eq!(expected, ["a", "b"]);
        let (_, expected) = parse_unknown_field("unknown field `x`, expected `a`").unwrap();
        assert_eq!(expected, ["a"]);
        assert!(parse_unknown_field("missing field `a`").is_none());
    }
}
