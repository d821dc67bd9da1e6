//! Choosing items: stratified sampling of captured traffic for exports, and collapsing
//! near-duplicate requests (by embedding similarity) on import. Pure.

use std::collections::BTreeMap;

use serde_json::Value;

use super::format::hex_sha256;
use crate::diff::semantic::cosine;

/// Pick `n` of `strata.len()` items, proportionally to each stratum's size (largest remainder;
/// every stratum gets at least one when `n` allows), pseudo-randomly but deterministically for
/// a `seed`. `ids` make the choice stable. Returns indices in their original order.
pub fn stratified(ids: &[String], strata: &[String], n: usize, seed: u64) -> Vec<usize> {
    let total = ids.len();
    if n >= total {
        return (0..total).collect();
    }
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in strata.iter().enumerate() {
        groups.entry(s.as_str()).or_default().push(i);
    }
    // Quotas: a floor share each, then the largest remainders; at least one per stratum if possible.
    let mut quota: Vec<(usize, f64, &str)> = groups
        .iter()
        .map(|(k, v)| {
            let exact = v.len() as f64 * n as f64 / total as f64;
            (exact.floor() as usize, exact - exact.floor(), *k)
        })
        .collect();
    if n >= quota.len() {
        for q in quota.iter_mut().filter(|q| q.0 == 0) {
            q.0 = 1;
            q.1 = -1.0;
        }
    }
    let mut assigned: usize = quota.iter().map(|q| q.0).sum();
    let mut order: Vec<usize> = (0..quota.len()).collect();
    order.sort_by(|&a, &b| quota[b].1.total_cmp(&quota[a].1).then(a.cmp(&b)));
    for &i in order.iter().cycle().take(quota.len() * 2) {
        if assigned >= n {
            break;
        }
        if quota[i].0 < groups[quota[i].2].len() {
            quota[i].0 += 1;
            assigned += 1;
        }
    }
    // Too many (the at-least-one rule): take back from the largest quotas.
    while assigned > n {
        let i = (0..quota.len())
            .max_by_key(|&i| quota[i].0)
            .expect("strata exist");
        quota[i].0 -= 1;
        assigned -= 1;
    }
    let rank = |i: usize| hex_sha256(format!("{seed}:{}", ids[i]).as_bytes());
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    for (take, _, key) in quota {
        let mut members = groups[key].clone();
        members.sort_by_cached_key(|&i| rank(i));
        chosen.extend(members.into_iter().take(take));
    }
    chosen.sort_unstable();
    chosen
}

/// The text of a chat request, for near-duplicate detection: each message's role and text.
pub fn request_text(request: &Value) -> String {
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return request.to_string();
    };
    messages
        .iter()
        .map(|m| {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("?");
            let content = match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            format!("{role}: {content}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Greedy near-duplicate collapsing: for each vector, the index of an earlier kept vector it is
/// at least `threshold` similar to (cosine), or None when it is kept.
pub fn near_duplicates(vectors: &[Vec<f32>], threshold: f64) -> Vec<Option<usize>> {
    let mut kept: Vec<usize> = Vec::new();
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let dup = kept
                .iter()
                .copied()
                .find(|&k| cosine(&vectors[k], v) >= threshold);
            if dup.is_none() {
                kept.push(i);
            }
            dup
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("id-{i}")).collect()
    }

    #[test]
    fn sampling_is_proportional_deterministic_and_covers_strata() {
        let mut strata = vec!["chat/gpt-4o".to_string(); 80];
        strata.extend(vec!["chat/mini".to_string(); 18]);
        strata.extend(vec!["embed/small".to_string(); 2]);
        let ids = ids(100);
        let pick = stratified(&ids, &strata, 10, 7);
        assert_eq!(pick.len(), 10);
        let count = |s: &str| pick.iter().filter(|&&i| strata[i] == s).count();
        assert_eq!(
            (
                count("chat/gpt-4o"),
                count("chat/mini"),
                count("embed/small")
            ),
            (8, 1, 1)
        );
        assert_eq!(
            pick,
            stratified(&ids, &strata, 10, 7),
            "same seed, same sample"
        );
        assert_ne!(
            pick,
            stratified(&ids, &strata, 10, 8),
            "another seed, another sample"
        );
        assert!(pick.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(stratified(&ids, &strata, 500, 1).len(), 100);
        // Fewer slots than strata: the largest strata win.
        let two = stratified(&ids, &strata, 2, 1);
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn sampling_exact_sizes() {
        for n in 0..=30 {
            let strata: Vec<String> = (0..30).map(|i| format!("s{}", i % 4)).collect();
            assert_eq!(stratified(&ids(30), &strata, n, 3).len(), n);
        }
    }

    #[test]
    fn near_duplicates_are_collapsed_greedily() {
        let v = vec![
            vec![1.0, 0.0],
            vec![0.99, 0.141],
            vec![0.0, 1.0],
            vec![0.1, 0.995],
        ];
        assert_eq!(
            near_duplicates(&v, 0.95),
            vec![None, Some(0), None, Some(2)]
        );
        assert_eq!(near_duplicates(&v, 0.9999), vec![None, None, None, None]);
    }

    #[test]
    fn request_text_reads_roles_and_parts() {
        let r = json!({"messages": [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url"}]}]});
        assert_eq!(request_text(&r), "system: Be brief.\nuser: Hi");
    }
}
