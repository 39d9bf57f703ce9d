//! Translation pairing (MG-2): which story on one site is the same story on the other. Evidence
//! is byte-identical images (the featured image or any attachment, compared by blake3 hash)
//! within a publication time window; numbers shared by both texts break ties; an explicit
//! mapping always wins. Time alone never pairs, and an image used by several stories pairs only
//! when the two stories choose each other (mutual best), so "stock" photos do not mislead.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

/// One published story as pairing sees it.
#[derive(Debug, Clone)]
pub struct Story {
    pub id: i64,
    /// Publication instant (UTC seconds).
    pub at: i64,
    /// blake3 hashes of the featured image and the post's other attachments.
    pub images: HashSet<String>,
    /// Numbers (2+ digits) in the title and text: translations keep them.
    pub numbers: BTreeSet<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Pair {
    pub a: i64,
    pub b: i64,
    /// `mapping`, `image`, or `image+numbers` (chosen among several candidates).
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Uncertain {
    pub a: i64,
    pub candidates: Vec<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Pairing {
    pub pairs: Vec<Pair>,
    /// Paired after choosing among several candidates, or left unpaired because the choice was not clear.
    pub uncertain: Vec<Uncertain>,
    pub unpaired_a: Vec<i64>,
    pub unpaired_b: Vec<i64>,
}

/// Numbers of two or more digits in a text.
pub fn numbers_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cur = String::new();
    for ch in text.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit() {
            cur.push(ch);
        } else {
            if cur.len() >= 2 {
                out.insert(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    out
}

fn overlap(a: &BTreeSet<String>, b: &BTreeSet<String>) -> usize {
    a.intersection(b).count()
}

/// Pairs stories of site A with stories of site B.
pub fn pair(a: &[Story], b: &[Story], explicit: &[(i64, i64)], window_secs: i64) -> Pairing {
    let mut out = Pairing::default();
    let a_ids: HashSet<i64> = a.iter().map(|s| s.id).collect();
    let b_ids: HashSet<i64> = b.iter().map(|s| s.id).collect();
    let mut taken_a = HashSet::new();
    let mut taken_b = HashSet::new();
    for &(x, y) in explicit {
        if a_ids.contains(&x) && b_ids.contains(&y) && taken_a.insert(x) && taken_b.insert(y) {
            out.pairs.push(Pair { a: x, b: y, evidence: "mapping".into() });
        } else {
            out.uncertain.push(Uncertain {
                a: x,
                candidates: vec![y],
                reason: "mapping row names an unknown or already paired story".into(),
            });
        }
    }
    // Candidates: within the window and at least one identical image.
    let candidates = |s: &Story, others: &[Story], taken: &HashSet<i64>| -> Vec<(i64, (usize, i64))> {
        let mut c: Vec<(i64, (usize, i64))> = others
            .iter()
            .filter(|o| !taken.contains(&o.id))
            .filter(|o| (o.at - s.at).abs() <= window_secs)
            .filter(|o| !o.images.is_disjoint(&s.images))
            .map(|o| (o.id, (overlap(&s.numbers, &o.numbers), (o.at - s.at).abs())))
            .collect();
        // Best first: most shared numbers, then closest in time.
        c.sort_by(|x, y| y.1.0.cmp(&x.1.0).then(x.1.1.cmp(&y.1.1)));
        c
    };
    let b_by_id: HashMap<i64, &Story> = b.iter().map(|s| (s.id, s)).collect();
    for s in a {
        if taken_a.contains(&s.id) {
            continue;
        }
        let mine = candidates(s, b, &taken_b);
        let Some(&(best, (score, _))) = mine.first() else { continue };
        let Some(other) = b_by_id.get(&best) else { continue };
        let theirs = candidates(other, a, &taken_a);
        let mutual = theirs.first().map(|t| t.0) == Some(s.id);
        // A tie on the best score is not a choice.
        let tied = mine.get(1).is_some_and(|second| second.1 == mine[0].1)
            || theirs.get(1).is_some_and(|second| second.1 == theirs[0].1);
        if mine.len() == 1 && theirs.len() == 1 {
            out.pairs.push(Pair { a: s.id, b: best, evidence: "image".into() });
        } else if mutual && !tied && score > 0 {
            out.pairs.push(Pair { a: s.id, b: best, evidence: "image+numbers".into() });
            out.uncertain.push(Uncertain {
                a: s.id,
                candidates: mine.iter().map(|c| c.0).collect(),
                reason: format!("paired with {best}: most shared numbers among several image matches"),
            });
        } else {
            out.uncertain.push(Uncertain {
                a: s.id,
                candidates: mine.iter().map(|c| c.0).collect(),
                reason: "several stories share the image and none is clearly the translation; not paired".into(),
            });
            continue;
        }
        taken_a.insert(s.id);
        taken_b.insert(best);
    }
    out.unpaired_a = a.iter().map(|s| s.id).filter(|id| !taken_a.contains(id)).collect();
    out.unpaired_b = b.iter().map(|s| s.id).filter(|id| !taken_b.contains(id)).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(id: i64, at: i64, image: &str, text: &str) -> Story {
        Story { id, at, images: [image.to_owned()].into_iter().collect(), numbers: numbers_in(text) }
    }

    #[test]
    fn mg2_time_alone_never_pairs_and_stock_images_need_a_clear_choice() {
        let a =
            vec![story(1, 0, "x", "85 жоба"), story(2, 100, "stock", "12 мектеп"), story(3, 200, "stock", "40 жол")];
        let b = vec![
            story(10, 600, "x", "85 проектов"),
            story(11, 150, "other", "12"),
            story(12, 300, "stock", "40 дорог"),
            story(13, 250, "stock", "99"),
        ];
        let p = pair(&a, &b, &[], 2400);
        assert!(p.pairs.contains(&Pair { a: 1, b: 10, evidence: "image".into() }));
        assert!(p.pairs.iter().any(|x| x.a == 3 && x.b == 12), "{p:?}");
        assert!(!p.pairs.iter().any(|x| x.b == 11), "different images: time alone never pairs");
        let forced = pair(&a, &b, &[(2, 11)], 2400);
        assert!(forced.pairs.contains(&Pair { a: 2, b: 11, evidence: "mapping".into() }));
    }
}
