//! `cargo xtask perf bisect`: the first commit between a good and a bad revision at which one
//! metric regressed.
//!
//! Every probe is a paired comparison of the candidate against the *good* revision (ABBA
//! rounds of fresh clusters, Wilcoxon on log-ratios), gated on the one metric asked about, so
//! Holm's family is that metric alone. Binary search over `git rev-list --ancestry-path`
//! assumes the regression, once in, stays in (as `git bisect` does); the bad end is probed
//! first, so a "regression" that the statistics cannot see is reported instead of bisected.

use std::path::Path;

use crate::{
    Error,
    compare::{MetricComparison, Verdict},
    data::env::short_commit,
    git,
    tasks::{
        perf::{self, PerfRequest},
        preflight,
    },
};

/// One probe's answer.
#[derive(Debug, Clone)]
pub struct Step {
    /// Commit probed.
    pub commit: String,
    /// Whether the metric regressed against the good revision.
    pub regressed: bool,
    /// The comparison line that decided it.
    pub evidence: String,
}

/// The outcome of a bisection.
#[derive(Debug, Clone)]
pub struct Bisection {
    /// The first bad commit.
    pub first_bad: String,
    /// Its parent on the searched path (the last good one).
    pub last_good: String,
    /// Every probe, in the order made.
    pub steps: Vec<Step>,
    /// Commits on the path from good (exclusive) to bad (inclusive).
    pub candidates: usize,
}

/// The commit a ref names; a ref that names none is a usage error.
fn resolve(repo: &Path, git_ref: &str) -> Result<String, Error> {
    git::resolve_commit(repo, git_ref).map_err(|e| Error::Usage(e.to_string()))
}

/// `good` (exclusive) to `bad` (inclusive), oldest first, along the ancestry path.
pub fn commits_between(repo: &Path, good: &str, bad: &str) -> Result<(String, Vec<String>), Error> {
    let good_commit = resolve(repo, good)?;
    let bad_commit = resolve(repo, bad)?;
    if good_commit == bad_commit || !git::is_ancestor(repo, &good_commit, &bad_commit)? {
        return Err(Error::Usage(format!(
            "--good {good} must be an ancestor of --bad {bad} (and a different commit)"
        )));
    }
    let list = git::ancestry_path(repo, &good_commit, &bad_commit)?;
    Ok((good_commit, list))
}

/// Binary search for the first commit where `probe` says "regressed". `commits` run oldest to
/// newest and end at the bad revision, which is probed first.
pub fn search<E>(
    good: &str,
    commits: &[String],
    mut probe: impl FnMut(&str) -> Result<Step, E>,
    mut not_regressed_at_bad: impl FnMut(&Step) -> E,
) -> Result<Bisection, E> {
    let mut steps = Vec::new();
    let last = commits.len() - 1;
    let step = probe(&commits[last])?;
    let bad_is_bad = step.regressed;
    steps.push(step);
    if !bad_is_bad {
        return Err(not_regressed_at_bad(&steps[0]));
    }
    // Invariant: commits[hi] regressed; everything at or before `lo` did not (lo = -1 is good).
    let (mut lo, mut hi) = (-1isize, last as isize);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        let step = probe(&commits[mid as usize])?;
        if step.regressed {
            hi = mid;
        } else {
            lo = mid;
        }
        steps.push(step);
    }
    Ok(Bisection {
        first_bad: commits[hi as usize].clone(),
        last_good: if lo < 0 {
            good.to_owned()
        } else {
            commits[lo as usize].clone()
        },
        steps,
        candidates: commits.len(),
    })
}

/// What to bisect.
#[derive(Debug, Clone)]
pub struct BisectRequest {
    /// Scenario, overrides and output settings; `against` is set per probe.
    pub perf: PerfRequest,
    /// A revision without the regression.
    pub good: String,
    /// A revision with it.
    pub bad: String,
    /// The metric that regressed.
    pub metric: String,
}

/// One line of evidence from a metric comparison.
fn evidence(m: &MetricComparison) -> String {
    format!(
        "{}: base {:.4} → head {:.4} {} ({}), change {}, p {}, threshold ±{:.1}%: {}",
        m.name,
        m.base_median,
        m.head_median,
        m.unit,
        format_args!("{} pairs", m.n_head),
        m.change
            .map_or("-".into(), |c| format!("{:+.1}%", c * 100.0)),
        m.p_adjusted
            .or(m.p_regression)
            .map_or("-".into(), |p| format!("{p:.4}")),
        m.threshold * 100.0,
        m.verdict
    )
}

/// The answer and every probe, as printed at the end of a bisection.
pub fn render(b: &Bisection) -> String {
    let mut out = format!(
        "first bad commit: {}\nlast good commit: {}\n{} candidates, {} probes:\n",
        b.first_bad,
        b.last_good,
        b.candidates,
        b.steps.len()
    );
    for s in &b.steps {
        out.push_str(&format!(
            "  {} {}  {}\n",
            short_commit(&s.commit),
            if s.regressed { "bad " } else { "good" },
            s.evidence
        ));
    }
    out
}

/// Runs the bisection with real builds and clusters.
pub fn bisect(request: &BisectRequest) -> Result<Bisection, Error> {
    let scenario = preflight::perf(&request.perf)?;
    if crate::data::metrics::definition(&request.metric).is_none() {
        return Err(Error::Usage(format!(
            "unknown metric {:?}; `cargo xtask perf metrics` lists them",
            request.metric
        )));
    }
    let repo = &request.perf.common.workspace;
    let (good, commits) = commits_between(repo, &request.good, &request.bad)?;
    eprintln!(
        "bisect: {} commits between {} and {}, about {} probes of scenario {} on {}",
        commits.len(),
        short_commit(&good),
        short_commit(commits.last().map_or("", String::as_str)),
        (commits.len() as f64).log2().ceil() as usize + 1,
        scenario.name,
        request.metric
    );
    search(
        &good,
        &commits,
        |commit| probe(request, &good, commit),
        |step| {
            Error::Bisect(format!(
                "--bad {} does not show a regression of {} against --good {}: {}. Nothing to bisect; try more --repetitions",
                request.bad, request.metric, request.good, step.evidence
            ))
        },
    )
}

fn probe(request: &BisectRequest, good: &str, commit: &str) -> Result<Step, Error> {
    let (bin, _) =
        crate::measure::build::build_revision_node(&request.perf.common.workspace, commit)?;
    let perf_request = PerfRequest {
        node_bin: Some(bin),
        against: Some(good.to_owned()),
        base_node_bin: None,
        ..request.perf.clone()
    };
    let comparison = perf::run_paired_on_metric(&perf_request, &request.metric)?;
    let m = comparison
        .metrics
        .iter()
        .find(|m| m.name == request.metric)
        .ok_or_else(|| {
            Error::Usage(format!(
                "the scenario produced no samples of {}; pick a metric it measures",
                request.metric
            ))
        })?;
    let step = Step {
        commit: commit.to_owned(),
        regressed: m.verdict == Verdict::Regressed,
        evidence: evidence(m),
    };
    eprintln!(
        "bisect: {} {}: {}",
        short_commit(commit),
        if step.regressed { "bad " } else { "good" },
        step.evidence
    );
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::git::testing::git_in as run;

    /// A repository of `n` commits whose file `delay_us` holds the "performance" of each;
    /// the regression is planted at commit `planted` (0-based).
    fn synthetic_repo(n: usize, planted: usize) -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &["init", "-q", "-b", "main"]);
        let mut commits = Vec::new();
        for i in 0..n {
            let delay = if i >= planted { 200 } else { 0 };
            std::fs::write(dir.path().join("delay_us"), format!("{delay}\n")).unwrap();
            std::fs::write(dir.path().join("log"), format!("commit {i}\n")).unwrap();
            run(dir.path(), &["add", "."]);
            run(dir.path(), &["commit", "-q", "-m", &format!("commit {i}")]);
            commits.push(run(dir.path(), &["rev-parse", "HEAD"]));
        }
        (dir, commits)
    }

    /// A probe that "measures" by reading the planted file at the commit.
    fn file_probe(repo: &Path) -> impl FnMut(&str) -> Result<Step, String> + '_ {
        move |commit| {
            let delay: u32 = run(repo, &["show", &format!("{commit}:delay_us")])
                .parse()
                .unwrap();
            Ok(Step {
                commit: commit.into(),
                regressed: delay > 100,
                evidence: format!("delay {delay} µs"),
            })
        }
    }

    #[test]
    fn finds_the_planted_commit_in_a_synthetic_repository() {
        for planted in 1..12 {
            let (dir, all) = synthetic_repo(12, planted);
            let (good, path) = commits_between(dir.path(), &all[0], "main").unwrap();
            assert_eq!(good, all[0]);
            assert_eq!(path, all[1..].to_vec());
            let b = search(&good, &path, file_probe(dir.path()), |s| s.evidence.clone()).unwrap();
            assert_eq!(b.first_bad, all[planted], "planted at {planted}");
            assert_eq!(b.last_good, all[planted - 1]);
            // log2(11) rounds up to 4, plus the probe of the bad end.
            assert!(b.steps.len() <= 5, "{} probes", b.steps.len());
        }
    }

    #[test]
    fn a_bad_end_without_a_regression_is_an_error_not_a_guess() {
        let (dir, all) = synthetic_repo(5, 99);
        let (good, path) = commits_between(dir.path(), &all[0], &all[4]).unwrap();
        let e = search(&good, &path, file_probe(dir.path()), |s| s.evidence.clone()).unwrap_err();
        assert_eq!(e, "delay 0 µs");
    }

    #[test]
    fn refs_must_exist_and_be_ordered() {
        let (dir, all) = synthetic_repo(3, 1);
        let e = commits_between(dir.path(), "nope", "main").unwrap_err();
        assert!(e.to_string().contains("\"nope\" does not exist"), "{e}");
        let e = commits_between(dir.path(), &all[2], &all[0]).unwrap_err();
        assert!(e.to_string().contains("must be an ancestor"), "{e}");
    }
}
