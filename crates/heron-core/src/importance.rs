//! Parameter importance for a set of runs: how much each parameter (a config value) explains a
//! target metric. Two measures, as W&B's parameter-importance panel shows them:
//!
//! - the Pearson correlation of the parameter with the target (linear, signed);
//! - permutation importance in a random forest of regression trees: per tree, the rise in
//!   squared error on the runs the tree did not train on (out of bag) when one parameter's
//!   values are shuffled among them. It catches non-linear effects and interactions.
//!
//! The forest is seeded, so the same runs give the same answer.

/// Trees in the forest.
const TREES: usize = 64;
/// Deepest split of a tree.
const MAX_DEPTH: usize = 8;
/// Fewest runs in a leaf.
const MIN_LEAF: usize = 2;
/// Bootstrap sample size cap: keeps a forest over 10k runs well under a second.
const MAX_SAMPLE: usize = 2048;

/// One parameter's scores; `importance` over all parameters sums to 1 (or all are 0 when no
/// parameter helps).
#[derive(Debug, Clone, PartialEq)]
pub struct Importance {
    pub correlation: Option<f64>,
    pub importance: f64,
}

/// `columns[j][i]` is parameter `j` of run `i` (NaN when the run lacks it); `target[i]` is
/// finite. Returns one score per parameter.
pub fn importance(columns: &[Vec<f64>], target: &[f64]) -> Vec<Importance> {
    let n = target.len();
    assert!(columns.iter().all(|c| c.len() == n), "every column has one value per run");
    let correlations: Vec<Option<f64>> = columns.iter().map(|c| pearson(c, target)).collect();
    // Missing values take their column's mean, so they do not steer splits.
    let imputed: Vec<Vec<f64>> = columns
        .iter()
        .map(|column| {
            let present: Vec<f64> = column.iter().copied().filter(|v| v.is_finite()).collect();
            let mean = if present.is_empty() { 0.0 } else { present.iter().sum::<f64>() / present.len() as f64 };
            column.iter().map(|v| if v.is_finite() { *v } else { mean }).collect()
        })
        .collect();
    let raw = if n < 2 * MIN_LEAF || columns.is_empty() {
        vec![0.0; columns.len()]
    } else {
        forest_importance(&imputed, target)
    };
    let total: f64 = raw.iter().sum();
    correlations
        .into_iter()
        .zip(raw)
        .map(|(correlation, raw)| Importance { correlation, importance: if total > 0.0 { raw / total } else { 0.0 } })
        .collect()
}

/// Pearson correlation over the runs where both values are finite; None when fewer than two
/// such runs or either side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> =
        x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).collect();
    if pairs.len() < 2 {
        return None;
    }
    let count = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / count;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in &pairs {
        sxy += (a - mean_x) * (b - mean_y);
        sxx += (a - mean_x) * (a - mean_x);
        syy += (b - mean_y) * (b - mean_y);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// SplitMix64: a tiny, well-mixed generator; enough for bootstraps and shuffles.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

enum Node {
    Leaf(f64),
    Split { feature: usize, threshold: f64, left: Box<Node>, right: Box<Node> },
}

impl Node {
    fn predict(&self, row: impl Fn(usize) -> f64) -> f64 {
        let mut node = self;
        loop {
            match node {
                Node::Leaf(value) => return *value,
                Node::Split { feature, threshold, left, right } => {
                    node = if row(*feature) <= *threshold { left } else { right };
                }
            }
        }
    }
}

fn mean_of(indices: &[usize], target: &[f64]) -> f64 {
    indices.iter().map(|&i| target[i]).sum::<f64>() / indices.len() as f64
}

/// Grows a regression tree on `indices` choosing the best variance-reducing split among
/// `features_per_split` random features at each node.
fn grow(
    columns: &[Vec<f64>],
    target: &[f64],
    indices: &mut [usize],
    depth: usize,
    features_per_split: usize,
    rng: &mut Rng,
) -> Node {
    let leaf = Node::Leaf(mean_of(indices, target));
    if depth >= MAX_DEPTH || indices.len() < 2 * MIN_LEAF {
        return leaf;
    }
    let mut features: Vec<usize> = (0..columns.len()).collect();
    rng.shuffle(&mut features);
    let total_sum: f64 = indices.iter().map(|&i| target[i]).sum();
    let total_sq: f64 = indices.iter().map(|&i| target[i] * target[i]).sum();
    let count = indices.len() as f64;
    let parent_sse = total_sq - total_sum * total_sum / count;
    let mut best: Option<(f64, usize, f64)> = None;
    for &feature in features.iter().take(features_per_split) {
        let column = &columns[feature];
        indices.sort_unstable_by(|&a, &b| column[a].total_cmp(&column[b]));
        let (mut left_sum, mut left_sq) = (0.0, 0.0);
        for split in 1..indices.len() {
            let y = target[indices[split - 1]];
            left_sum += y;
            left_sq += y * y;
            let (here, next) = (column[indices[split - 1]], column[indices[split]]);
            if split < MIN_LEAF || indices.len() - split < MIN_LEAF || here == next {
                continue;
            }
            let left_n = split as f64;
            let right_n = count - left_n;
            let right_sum = total_sum - left_sum;
            let right_sq = total_sq - left_sq;
            let sse = (left_sq - left_sum * left_sum / left_n) + (right_sq - right_sum * right_sum / right_n);
            if best.is_none_or(|(b, _, _)| sse < b) {
                best = Some((sse, feature, (here + next) / 2.0));
            }
        }
    }
    let Some((sse, feature, threshold)) = best else { return leaf };
    if sse >= parent_sse - 1e-12 * parent_sse.abs() {
        return leaf;
    }
    let column = &columns[feature];
    indices.sort_unstable_by(|&a, &b| column[a].total_cmp(&column[b]));
    let cut = indices.partition_point(|&i| column[i] <= threshold);
    let (left, right) = indices.split_at_mut(cut);
    Node::Split {
        feature,
        threshold,
        left: Box::new(grow(columns, target, left, depth + 1, features_per_split, rng)),
        right: Box::new(grow(columns, target, right, depth + 1, features_per_split, rng)),
    }
}

fn forest_importance(columns: &[Vec<f64>], target: &[f64]) -> Vec<f64> {
    let n = target.len();
    let mut rng = Rng(0x4845_524f_4e21);
    let features_per_split = columns.len().div_ceil(3).max(1);
    let sample = n.min(MAX_SAMPLE);
    let mut totals = vec![0.0; columns.len()];
    let mut in_bag = vec![false; n];
    for _ in 0..TREES {
        in_bag.fill(false);
        let mut bag: Vec<usize> = (0..sample).map(|_| rng.below(n)).collect();
        for &i in &bag {
            in_bag[i] = true;
        }
        let tree = grow(columns, target, &mut bag, 0, features_per_split, &mut rng);
        let out_of_bag: Vec<usize> = (0..n).filter(|&i| !in_bag[i]).collect();
        if out_of_bag.len() < 2 {
            continue;
        }
        let error = |value_of: &dyn Fn(usize, usize) -> f64| -> f64 {
            out_of_bag
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let predicted = tree.predict(|feature| value_of(k, feature));
                    (predicted - target[i]).powi(2)
                })
                .sum::<f64>()
                / out_of_bag.len() as f64
        };
        let base = error(&|k, feature| columns[feature][out_of_bag[k]]);
        for (feature, total) in totals.iter_mut().enumerate() {
            let mut shuffled = out_of_bag.clone();
            rng.shuffle(&mut shuffled);
            let permuted =
                error(&|k, f| if f == feature { columns[f][shuffled[k]] } else { columns[f][out_of_bag[k]] });
            *total += (permuted - base).max(0.0);
        }
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn pearson_is_signed_and_none_when_constant() {
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]), Some(1.0));
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
        assert_eq!(pearson(&[1.0, f64::NAN, 3.0], &[1.0, 5.0, 3.0]), Some(1.0), "pairs with a NaN are left out");
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

    #[test]
    fn the_parameter_that_drives_the_target_ranks_first_even_when_not_linear() {
        // target = (lr - 0.5)^2 (no linear correlation) + a little of depth; noise is irrelevant.
        let mut seed = 7;
        let n = 300;
        let lr: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
        let depth: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
        let noise: Vec<f64> = (0..n).map(|_| lcg(&mut seed)).collect();
        let target: Vec<f64> = (0..n).map(|i| 10.0 * (lr[i] - 0.5).powi(2) + 0.3 * depth[i]).collect();
        let scores = importance(&[noise.clone(), lr.clone(), depth.clone()], &target);
        assert!(scores[1].importance > scores[2].importance, "{scores:?}");
        assert!(scores[2].importance > scores[0].importance, "{scores:?}");
        assert!(scores[0].importance < 0.05, "noise explains little: {scores:?}");
        assert!(scores[1].correlation.unwrap().abs() < 0.3, "the U-shape has no linear correlation: {scores:?}");
        let sum: f64 = scores.iter().map(|s| s.importance).sum();
        assert!((sum - 1.0).abs() < 1e-9);
        assert_eq!(scores, importance(&[noise, lr, depth], &target), "seeded: the same input gives the same answer");
    }

    #[test]
    fn missing_values_and_tiny_inputs_do_not_panic() {
        let scores = importance(&[vec![1.0, f64::NAN, 3.0]], &[1.0, 2.0, 3.0]);
        assert_eq!(scores.len(), 1);
        assert_eq!(scores[0].importance, 0.0, "three runs are too few for a forest");
        assert!(importance(&[], &[1.0, 2.0]).is_empty());
        let constant = importance(&[vec![1.0; 20]], &(0..20).map(f64::from).collect::<Vec<_>>());
        assert_eq!(constant[0].importance, 0.0);
        assert_eq!(constant[0].correlation, None);
    }
}
