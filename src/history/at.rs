//! `--at DATE|REV` support: the commit the SMS is shown as it stood at.
//!
//! A DATE names the newest commit of HEAD's first-parent chain whose committer date, in the
//! committer's own offset (as every date of the history is read, DESIGN "History"), is on or
//! before DATE. A REV is any revision git can resolve, on HEAD's chain or not: it is a past
//! state of the SMS all the same, and its history is the first-parent chain of that commit.

use super::git::git_error;
use super::{walk, Repo};
use anyhow::{anyhow, bail, Result};
use git2::Oid;
use jiff::civil::Date;

/// The commit `--at` resolved to, and the date outputs say the SMS stood on.
#[derive(Debug, Clone)]
pub struct AtCommit {
    pub commit: String,
    /// The committer date of the commit, in its own offset.
    pub commit_date: Date,
}

impl Repo {
    /// The newest commit of HEAD's first-parent chain dated on or before `date`. Errors name
    /// the fix: no commit at HEAD, a date before the first commit, a shallow clone cut too soon.
    pub fn commit_on_or_before(&self, date: Date) -> Result<AtCommit> {
        let repo = self.git2();
        let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|e| {
            anyhow!(
                "--at {date}: the repository `{}` has no commit at HEAD: {}\nhelp: commit the SMS first",
                self.git_dir().display(),
                e.message()
            )
        })?;
        let mut next = Some(head.id());
        let mut first: Option<Date> = None;
        while let Some(oid) = next {
            let c = repo
                .find_commit(oid)
                .map_err(|e| git_error(self.git_dir(), "cannot read a commit", &e))?;
            let (_, _, d) = walk::commit_time(&c);
            if d <= date {
                return Ok(AtCommit {
                    commit: oid.to_string(),
                    commit_date: d,
                });
            }
            first = Some(d);
            next = c.parent_id(0).ok();
        }
        let first = first.map(|d| d.to_string()).unwrap_or_default();
        if repo.is_shallow() {
            bail!(
                "--at {date}: this shallow clone has no commit on or before {date} (its oldest is of {first}).\nhelp: fetch the history back to that date: `git fetch --shallow-since={date}` (or `git fetch --unshallow`); in GitHub Actions, `actions/checkout` with `fetch-depth: 0`"
            );
        }
        bail!(
            "--at {date}: the date is before the first commit of the SMS's repository (of {first}), so the SMS did not exist yet.\nhelp: pass a date on or after {first}"
        )
    }

    /// The commit `rev` names (any revision git can resolve). An unknown one says which fetch
    /// brings it, as `--base` does.
    pub fn commit_of_rev(&self, rev: &str) -> Result<AtCommit> {
        let repo = self.git2();
        let c = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| {
                let shallow = if repo.is_shallow() {
                    " This is a shallow clone: `git fetch --unshallow` brings every commit."
                } else {
                    ""
                };
                anyhow!(
                    "--at `{rev}` is neither a date (YYYY-MM-DD) nor a commit of the repository `{}`: {}\nhelp: name a branch, tag or commit id, or fetch it (`{}`).{shallow}",
                    self.git_dir().display(),
                    e.message(),
                    super::base::fetch_hint(rev)
                )
            })?;
        let (_, _, d) = walk::commit_time(&c);
        Ok(AtCommit {
            commit: c.id().to_string(),
            commit_date: d,
        })
    }

    /// The commit with the full id `commit` (as a bundle's manifest names it).
    pub fn commit_by_id(&self, commit: &str) -> Result<AtCommit> {
        let oid = Oid::from_str(commit)
            .map_err(|e| anyhow!("`{commit}` is not a commit id: {}", e.message()))?;
        self.commit_of_rev(&oid.to_string())
    }
}
