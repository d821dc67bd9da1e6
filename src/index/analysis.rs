//! Pure analyses over index vectors: clusters of regressions and prompt drift per route.
//!
//! **Clusters** — greedy leader clustering: points are visited in order (most recent first); each
//! joins the existing cluster whose leader (first member) it is most similar to, if that cosine
//! similarity reaches the threshold, and otherwise leads a new cluster. One pass, O(n·clusters),
//! deterministic for a given order; the leader is the cluster's representative.
//!
//! **Drift** — per route, a recent window of prompts against a baseline window: the cosine distance
//! of the two embedding centroids (1 − cos of the mean vectors: 0 = same average topic), the
//! difference of mean prompt lengths in tokens, and the two-sample Kolmogorov–Smirnov statistic of
//! the length distributions with its asymptotic p-value. A route drifted when the centroid distance
//! reaches its threshold or the length distributions differ (p below its threshold).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diff::semantic::cosine;

/// Groups of indices into the input (each group's first index is its leader).
pub fn leader_clusters(vectors: &[&[f32]], threshold: f64) -> Vec<Vec<usize>> {
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let best = clusters
            .iter()
            .enumerate()
            .map(|(c, members)| (c, cosine(vectors[members[0]], v)))
            .filter(|(_, s)| *s >= threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((c, _)) => clusters[c].push(i),
            None => clusters.push(vec![i]),
        }
    }
    clusters
}

/// One point to cluster: a regression diff.
#[derive(Debug, Clone)]
pub struct ClusterItem {
    pub diff_id: i64,
    pub vector: Vec<f32>,
    pub finding_kinds: Vec<String>,
    pub excerpt: String,
    pub route: String,
}

/// A group of regressions whose candidate answers mean much the same thing.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cluster {
    pub size: usize,
    /// The leader: the most recent regression of the cluster.
    pub representative: i64,
    pub members: Vec<i64>,
    /// Mean cosine similarity of the members to the representative.
    pub cohesion: f64,
    /// Finding kinds with their counts over the members, most frequent first.
    pub finding_kinds: Vec<(String, usize)>,
    pub routes: Vec<String>,
    pub excerpt: String,
}

/// Cluster `items` (most recent first) and summarise, largest clusters first (ties: most recent).
pub fn cluster_regressions(items: &[ClusterItem], threshold: f64) -> Vec<Cluster> {
    let vectors: Vec<&[f32]> = items.iter().map(|i| i.vector.as_slice()).collect();
    let mut out: Vec<Cluster> = leader_clusters(&vectors, threshold)
        .into_iter()
        .map(|members| {
            let leader = &items[members[0]];
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            let mut routes: Vec<String> = Vec::new();
            for m in &members {
                for k in &items[*m].finding_kinds {
                    *kinds.entry(k.as_str()).or_default() += 1;
                }
                if !routes.contains(&items[*m].route) {
                    routes.push(items[*m].route.clone());
                }
            }
            let mut finding_kinds: Vec<(String, usize)> =
                kinds.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
            finding_kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let cohesion = members
                .iter()
                .map(|m| cosine(&leader.vector, &items[*m].vector))
                .sum::<f64>()
                / members.len() as f64;
            Cluster {
                size: members.len(),
                representative: leader.diff_id,
                members: members.iter().map(|m| items[*m].diff_id).collect(),
                cohesion,
                finding_kinds,
                routes,
                excerpt: leader.excerpt.clone(),
            }
        })
        .collect();
    // Stable: equal sizes keep their order of creation (most recent leader first).
    out.sort_by_key(|c| std::cmp::Reverse(c.size));
    out
}

/// Mean of `vectors` (not normalised; empty input gives an empty vector).
pub fn centroid(vectors: &[&[f32]]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, |v| v.len());
    let mut sum = vec![0f64; dim];
    for v in vectors {
        for (s, x) in sum.iter_mut().zip(v.iter()) {
            *s += f64::from(*x);
        }
    }
    sum.iter()
        .map(|s| (s / vectors.len().max(1) as f64) as f32)
        .collect()
}

/// Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs (0..=1).
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// Asymptotic p-value of a two-sample KS statistic `d` for sample sizes `n` and `m`
/// (Kolmogorov distribution with Stephens' small-sample correction).
pub fn ks_p_value(d: f64, n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let ne = (n * m) as f64 / (n + m) as f64;
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    if lambda < 1e-3 {
        return 1.0;
    }
    let mut sum = 0.0;
    for j in 1..=100 {
        let term = (-2.0 * (j as f64).powi(2) * lambda * lambda).exp();
        sum += if j % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// A prompt as drift sees it.
#[derive(Debug, Clone)]
pub struct PromptSample {
    pub route: String,
    pub vector: Vec<f32>,
    pub tokens: u32,
}

/// Thresholds of the drift verdict.
#[derive(Debug, Clone, Copy)]
pub struct DriftThresholds {
    pub min_prompts: usize,
    pub centroid_distance: f64,
    pub length_p_value: f64,
}

/// Drift of one route.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteDrift {
    pub route: String,
    pub recent: usize,
    pub baseline: usize,
    /// 1 − cosine of the window centroids; None without enough prompts in both windows.
    pub centroid_distance: Option<f64>,
    pub mean_tokens_recent: Option<f64>,
    pub mean_tokens_baseline: Option<f64>,
    /// Recent minus baseline mean prompt length, tokens.
    pub mean_tokens_delta: Option<f64>,
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    /// `drifted`, `stable` or `insufficient_data`.
    pub status: &'static str,
    /// Why, in plain words.
    pub reasons: Vec<String>,
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Drift of one route's `recent` prompts against its `baseline` prompts.
pub fn route_drift(
    route: &str,
    recent: &[&PromptSample],
    baseline: &[&PromptSample],
    t: DriftThresholds,
) -> RouteDrift {
    let tokens = |s: &[&PromptSample]| s.iter().map(|p| f64::from(p.tokens)).collect::<Vec<_>>();
    let (tr, tb) = (tokens(recent), tokens(baseline));
    let (mr, mb) = (mean(&tr), mean(&tb));
    let mut out = RouteDrift {
        route: route.to_owned(),
        recent: recent.len(),
        baseline: baseline.len(),
        centroid_distance: None,
        mean_tokens_recent: mr,
        mean_tokens_baseline: mb,
        mean_tokens_delta: mr.zip(mb).map(|(r, b)| r - b),
        ks_statistic: None,
        ks_p_value: None,
        status: "insufficient_data",
        reasons: Vec::new(),
    };
    let need = t.min_prompts.max(1);
    if recent.len() < need || baseline.len() < need {
        out.reasons.push(format!(
            "{} recent and {} baseline prompts; at least {need} of each are needed",
            recent.len(),
            baseline.len()
        ));
        return out;
    }
    fn vectors<'a>(s: &[&'a PromptSample]) -> Vec<&'a [f32]> {
        s.iter().map(|p| p.vector.as_slice()).collect()
    }
    let distance = 1.0 - cosine(&centroid(&vectors(recent)), &centroid(&vectors(baseline)));
    let d = ks_statistic(&tr, &tb);
    let p = ks_p_value(d, tr.len(), tb.len());
    out.centroid_distance = Some(distance);
    out.ks_statistic = Some(d);
    out.ks_p_value = Some(p);
    if distance >= t.centroid_distance {
        out.reasons.push(format!(
            "prompts moved in meaning: centroid distance {distance:.3} ≥ {:.3}",
            t.centroid_distance
        ));
    }
    if p < t.length_p_value {
        out.reasons.push(format!(
            "prompt lengths changed: mean {:.0} → {:.0} tokens, KS D = {d:.2} (p = {p:.4})",
            mb.unwrap_or_default(),
            mr.unwrap_or_default()
        ));
    }
    out.status = if out.reasons.is_empty() {
        "stable"
    } else {
        "drifted"
    };
    out
}

/// Drift of every route seen in either window, routes in name order.
pub fn drift_by_route(
    recent: &[PromptSample],
    baseline: &[PromptSample],
    t: DriftThresholds,
) -> Vec<RouteDrift> {
    let mut routes: BTreeMap<&str, (Vec<&PromptSample>, Vec<&PromptSample>)> = BTreeMap::new();
    for p in recent {
        routes.entry(&p.route).or_default().0.push(p);
    }
    for p in baseline {
        routes.entry(&p.route).or_default().1.push(p);
    }
    routes
        .into_iter()
        .map(|(route, (r, b))| route_drift(route, &r, &b, t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(angle: f32) -> Vec<f32> {
        vec![angle.cos(), angle.sin(), 0.0]
    }

    fn item(id: i64, angle: f32, kind: &str) -> ClusterItem {
        ClusterItem {
            diff_id: id,
            vector: unit(angle),
            finding_kinds: vec![kind.into()],
            excerpt: format!("answer {id}"),
            route: "/v1/chat/completions".into(),
        }
    }

    #[test]
    fn leader_clustering_groups_by_threshold_and_keeps_order() {
        let a = unit(0.0);
        let b = unit(0.1); // cos 0.995 to a
        let c = unit(1.5); // far from both
        let d = unit(1.45);
        let groups = leader_clusters(&[&a, &c, &b, &d], 0.9);
        assert_eq!(groups, vec![vec![0, 2], vec![1, 3]]);
        // A threshold near 1 keeps only (near-)identical vectors together.
        assert_eq!(
            leader_clusters(&[&a, &b, &a], 0.999),
            vec![vec![0, 2], vec![1]]
        );
        assert!(leader_clusters(&[], 0.5).is_empty());
    }

    #[test]
    fn clusters_are_summarised_largest_first() {
        let items = vec![
            item(10, 1.5, "refusal"),
            item(9, 0.0, "truncated"),
            item(8, 0.05, "truncated"),
            item(7, 0.02, "semantic"),
            item(6, 1.52, "refusal"),
            item(5, 3.0, "tool_dropped"),
        ];
        let clusters = cluster_regressions(&items, 0.95);
        assert_eq!(clusters.len(), 3);
        assert_eq!(clusters[0].size, 3);
        assert_eq!(clusters[0].representative, 9);
        assert_eq!(clusters[0].members, vec![9, 8, 7]);
        assert_eq!(
            clusters[0].finding_kinds,
            vec![("truncated".into(), 2), ("semantic".into(), 1)]
        );
        assert!(clusters[0].cohesion > 0.99 && clusters[0].cohesion <= 1.0);
        assert_eq!(clusters[1].representative, 10);
        assert_eq!(clusters[1].members, vec![10, 6]);
        assert_eq!(clusters[2].members, vec![5]);
    }

    #[test]
    fn ks_statistic_and_p_value() {
        let a: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(ks_statistic(&a, &a), 0.0);
        assert!(ks_p_value(0.0, 100, 100) > 0.99);
        let shifted: Vec<f64> = (50..150).map(f64::from).collect();
        let d = ks_statistic(&a, &shifted);
        assert!((d - 0.5).abs() < 1e-9, "{d}");
        let p = ks_p_value(d, 100, 100);
        assert!(p < 1e-8, "{p}");
        // Disjoint samples: D = 1.
        assert_eq!(ks_statistic(&[1.0, 2.0], &[3.0, 4.0]), 1.0);
        // A small shift in small samples is not significant.
        let d = ks_statistic(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(ks_p_value(d, 5, 5) > 0.5);
        // Known value: D = 0.5, n = m = 20 → p ≈ 0.012 (exact 0.0095; asymptotic is close).
        let p = ks_p_value(0.5, 20, 20);
        assert!((0.005..0.02).contains(&p), "{p}");
    }

    fn prompts(route: &str, angle: f32, tokens: u32, n: usize) -> Vec<PromptSample> {
        (0..n)
            .map(|i| PromptSample {
                route: route.into(),
                vector: unit(angle + (i % 3) as f32 * 0.01),
                tokens: tokens + (i % 5) as u32,
            })
            .collect()
    }

    const T: DriftThresholds = DriftThresholds {
        min_prompts: 10,
        centroid_distance: 0.05,
        length_p_value: 0.01,
    };

    #[test]
    fn drift_per_route() {
        let mut baseline = prompts("/a", 0.0, 40, 30);
        baseline.extend(prompts("/b", 0.0, 40, 30));
        baseline.extend(prompts("/c", 0.0, 40, 3));
        let mut recent = prompts("/a", 0.0, 40, 30); // same topic, same lengths
        recent.extend(prompts("/b", 1.0, 120, 30)); // new topic, longer prompts
        recent.extend(prompts("/c", 0.0, 40, 30));
        let report = drift_by_route(&recent, &baseline, T);
        let by: BTreeMap<&str, &RouteDrift> =
            report.iter().map(|r| (r.route.as_str(), r)).collect();
        assert_eq!(by["/a"].status, "stable", "{:?}", by["/a"]);
        assert!(by["/a"].centroid_distance.unwrap() < 1e-6);
        assert_eq!(by["/b"].status, "drifted");
        assert!(by["/b"].centroid_distance.unwrap() > 0.4);
        assert_eq!(by["/b"].mean_tokens_delta, Some(80.0));
        assert_eq!(by["/b"].ks_statistic, Some(1.0));
        assert_eq!(by["/b"].reasons.len(), 2, "{:?}", by["/b"].reasons);
        assert_eq!(by["/c"].status, "insufficient_data");
        assert!(by["/c"].centroid_distance.is_none());
    }

    #[test]
    fn centroid_is_the_mean() {
        assert_eq!(centroid(&[&[1.0, 0.0], &[0.0, 1.0]]), vec![0.5, 0.5]);
        assert!(centroid(&[]).is_empty());
    }
}
