//! Side-by-side comparison of two revisions' bodies for editors, who read text, not HTML: the
//! body is cut into blocks (paragraphs, headings, list items, table rows), each shown as text;
//! changed blocks are paired and their changed words marked.

use serde::Serialize;
use similar::{ChangeTag, DiffOp, TextDiff, capture_diff_slices};

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Segment {
    pub text: String,
    pub changed: bool,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub(crate) struct Row {
    /// "same", "changed", "removed" or "added".
    pub kind: &'static str,
    pub left: Vec<Segment>,
    pub right: Vec<Segment>,
}

const BLOCK_ENDS: [&str; 12] = [
    "</p>",
    "</h2>",
    "</h3>",
    "</h4>",
    "</h5>",
    "</h6>",
    "</li>",
    "</tr>",
    "</blockquote>",
    "</figcaption>",
    "<br>",
    "</pre>",
];

/// The text blocks of sanitised HTML.
pub(crate) fn blocks(html: &str) -> Vec<String> {
    let mut marked = html.to_owned();
    for end in BLOCK_ENDS {
        marked = marked.replace(end, &format!("{end}\n"));
    }
    marked.lines().map(text_of).filter(|t| !t.is_empty()).collect()
}

/// Revision bodies were sanitised on save, so the domain's tag stripper reads them.
fn text_of(fragment: &str) -> String {
    baspa_domain::SanitizedHtml::from_trusted_storage(fragment.to_owned()).plain_text()
}

fn plain(text: &str) -> Vec<Segment> {
    vec![Segment { text: text.to_owned(), changed: false }]
}

/// Word-level marks for a changed pair of blocks.
fn words(old: &str, new: &str) -> (Vec<Segment>, Vec<Segment>) {
    let diff = TextDiff::from_words(old, new);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        let text = change.value().to_owned();
        match change.tag() {
            ChangeTag::Equal => {
                left.push(Segment { text: text.clone(), changed: false });
                right.push(Segment { text, changed: false });
            }
            ChangeTag::Delete => left.push(Segment { text, changed: true }),
            ChangeTag::Insert => right.push(Segment { text, changed: true }),
        }
    }
    (left, right)
}

pub(crate) fn side_by_side(old_html: &str, new_html: &str) -> Vec<Row> {
    let (old, new) = (blocks(old_html), blocks(new_html));
    let mut rows = Vec::new();
    for op in capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                for b in &old[old_index..old_index + len] {
                    rows.push(Row { kind: "same", left: plain(b), right: plain(b) });
                }
            }
            DiffOp::Delete { old_index, old_len, .. } => {
                for b in &old[old_index..old_index + old_len] {
                    rows.push(Row { kind: "removed", left: plain(b), right: Vec::new() });
                }
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                for b in &new[new_index..new_index + new_len] {
                    rows.push(Row { kind: "added", left: Vec::new(), right: plain(b) });
                }
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                let pairs = old_len.max(new_len);
                for k in 0..pairs {
                    match (
                        old.get(old_index + k).filter(|_| k < old_len),
                        new.get(new_index + k).filter(|_| k < new_len),
                    ) {
                        (Some(a), Some(b)) => {
                            let (left, right) = words(a, b);
                            rows.push(Row { kind: "changed", left, right });
                        }
                        (Some(a), None) => rows.push(Row { kind: "removed", left: plain(a), right: Vec::new() }),
                        (None, Some(b)) => rows.push(Row { kind: "added", left: Vec::new(), right: plain(b) }),
                        (None, None) => {}
                    }
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_text_and_changes_are_paired_word_by_word() {
        let old = "<h2>Мектеп</h2><p>Мектеп <strong>1200</strong> оқушыға арналған.</p><p>Ескі абзац</p>";
        let new = "<h2>Мектеп</h2><p>Мектеп <strong>1250</strong> оқушыға арналған.</p><p>Жаңа абзац &amp; тағы</p><p>Қосымша</p>";
        assert_eq!(blocks(old), vec!["Мектеп", "Мектеп 1200 оқушыға арналған.", "Ескі абзац"]);
        let rows = side_by_side(old, new);
        let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, vec!["same", "changed", "changed", "added"]);
        let changed_left: Vec<_> = rows[1].left.iter().filter(|s| s.changed).map(|s| s.text.trim()).collect();
        let changed_right: Vec<_> = rows[1].right.iter().filter(|s| s.changed).map(|s| s.text.trim()).collect();
        assert_eq!(changed_left, vec!["1200"]);
        assert_eq!(changed_right, vec!["1250"]);
        assert!(rows[2].right.iter().any(|s| s.text.contains('&')), "entities are decoded for reading");
    }
}
