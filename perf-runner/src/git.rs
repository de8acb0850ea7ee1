//! Every call to `git`: resolving refs, listing commits, worktrees and the revision of a
//! checkout. Other modules ask this one instead of spawning git themselves.
