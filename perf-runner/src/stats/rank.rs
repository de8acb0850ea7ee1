//! Midranks with ties, the basis of both rank tests.

/// Ranks (1-based) of `values`, ties sharing the mean of the ranks they span, plus the sizes of
/// the tie groups (for variance corrections).
pub fn midranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold equal values: ranks start+1 ..= end, mean (start+1+end)/2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        if end - start > 1 {
            ties.push(end - start);
        }
        start = end;
    }
    (ranks, ties)
}

/// Σ (t³ − t) over tie groups: the tie term of rank-test variances.
pub fn tie_term(ties: &[usize]) -> f64 {
    ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_rank() {
        let (ranks, ties) = midranks(&[10.0, 20.0, 10.0, 30.0, 20.0, 20.0]);
        assert_eq!(ranks, vec![1.5, 4.0, 1.5, 6.0, 4.0, 4.0]);
        assert_eq!(ties, vec![2, 3]);
        assert_eq!(tie_term(&ties), 6.0 + 24.0);
    }
}
