//! The table of `cargo xtask node check`: one line per check (result, name, what the contract
//! says), what to fix under each failure, and a count.

use std::fmt::Write;

use crate::data::node_check::{NodeCheck, Status};

/// Width of the name column.
const NAME: usize = 24;

/// The table, for a terminal or a CI log.
pub fn render(check: &NodeCheck) -> String {
    let mut out = String::new();
    let peer = match &check.peer_bin {
        Some(peer) => peer.display().to_string(),
        None => "a second instance of it".into(),
    };
    let declared = if check.capabilities.is_empty() {
        "none".to_owned()
    } else {
        check.capabilities.join(", ")
    };
    let _ = writeln!(
        out,
        "node check: {} over {}, peer: {peer}, capabilities: {declared}\n",
        check.node_bin.display(),
        check.transport
    );
    let (mut passed, mut failed, mut skipped, mut not_run) = (0, 0, 0, 0);
    for row in &check.checks {
        let (result, note) = match &row.status {
            Status::Passed => {
                passed += 1;
                ("pass", None)
            }
            Status::Failed(why) => {
                failed += 1;
                ("FAIL", Some(format!("fix: {why}")))
            }
            Status::Skipped(why) => {
                skipped += 1;
                ("skipped", Some(why.clone()))
            }
            Status::NotRun(why) => {
                not_run += 1;
                ("not run", Some(why.clone()))
            }
        };
        let _ = writeln!(out, "{result:<8} {:<NAME$} {}", row.name, row.contract);
        if let Some(note) = note {
            for line in note.lines() {
                let _ = writeln!(out, "{:<8} {:<NAME$}   {line}", "", "");
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{passed} passed, {failed} failed, {skipped} skipped (capability not declared), {not_run} not run"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::node_check::Check;

    #[test]
    fn failures_say_what_to_fix_under_their_row_and_the_count_adds_up() {
        let check = NodeCheck {
            node_bin: "./their-node".into(),
            peer_bin: None,
            transport: "quic".into(),
            capabilities: vec![],
            checks: vec![
                Check::new("ready line", "one JSON line", Status::Passed),
                Check::new(
                    "one process",
                    "no wrapper",
                    Status::Failed("exec it".into()),
                ),
                Check::new(
                    "perf",
                    "moves bytes",
                    Status::Skipped("not declared".into()),
                ),
                Check::new("connect", "dials", Status::NotRun("needs \"x\"".into())),
            ],
        };
        let text = render(&check);
        assert!(text.contains("capabilities: none"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let fail = lines.iter().position(|l| l.starts_with("FAIL")).unwrap();
        assert!(lines[fail].contains("one process"), "{text}");
        assert!(
            lines[fail + 1].trim_start().starts_with("fix: exec it"),
            "{text}"
        );
        assert!(
            text.contains("1 passed, 1 failed, 1 skipped (capability not declared), 1 not run"),
            "{text}"
        );
        assert_eq!(check.exit(), crate::Exit::Regressed);
    }
}
