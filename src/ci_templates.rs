//! Ready-made CI configurations for the pull-request gate (`check --base`), embedded in the binary
//! so that `auditbook init` can write them without a copy of this repository. The files live in
//! `ci-templates/`; they are data, documented there and in the README ("Pull-request gate").

/// GitHub Actions workflow: the reusable action (`action.yml`) as the gate, with annotations,
/// job summary and SARIF to code scanning.
pub const GITHUB_ACTIONS: &str = include_str!("../ci-templates/github-actions.yml");

/// GitLab CI job: gate on merge requests, JUnit report.
pub const GITLAB_CI: &str = include_str!("../ci-templates/gitlab-ci.yml");

/// pre-commit hook definitions (`.pre-commit-hooks.yaml` at the root of auditbook's repository).
pub const PRE_COMMIT_HOOKS: &str = include_str!("../.pre-commit-hooks.yaml");

/// The reusable GitHub Action (composite) at the root of auditbook's repository.
pub const ACTION: &str = include_str!("../action.yml");

/// Stands for the git URL auditbook is installed from; [`with_repository`] replaces it.
pub const REPOSITORY_PLACEHOLDER: &str = "<repo-url-placeholder>";

/// Each template with the path an SMS repository keeps it at.
pub const FILES: &[(&str, &str)] = &[
    (".github/workflows/auditbook.yml", GITHUB_ACTIONS),
    ("ci/auditbook.gitlab-ci.yml", GITLAB_CI),
];

/// Stands for the GitHub repository (owner/name) that publishes the action.
pub const ACTION_PLACEHOLDER: &str = "<action-placeholder>";

/// A template with the repository placeholder replaced by `url`.
pub fn with_repository(template: &str, url: &str) -> String {
    template.replace(REPOSITORY_PLACEHOLDER, url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_fetch_full_history_and_run_the_gate() {
        assert!(GITHUB_ACTIONS.contains("fetch-depth: 0"));
        assert!(GITHUB_ACTIONS.contains(&format!("uses: {ACTION_PLACEHOLDER}@v1")));
        // The action does what the workflow promises.
        assert!(ACTION.contains("using: composite"));
        assert!(ACTION.contains("--format github"));
        assert!(ACTION.contains("--format sarif"));
        assert!(ACTION.contains("--require-history"));
        assert!(ACTION.contains("github/codeql-action/upload-sarif"));
        assert!(ACTION.contains("format('origin/{0}', github.base_ref)"));
        assert!(ACTION.contains("sha256sum -c"));
        // The history cache: restored on every run, saved on pushes only, keyed by the commit.
        assert!(ACTION.contains("uses: actions/cache/restore@v4"));
        assert!(ACTION.contains("uses: actions/cache/save@v4"));
        assert!(ACTION.contains("path: .git/auditbook"));
        assert!(ACTION.contains("github.event.pull_request.base.sha || github.sha"));
        assert!(ACTION.contains("github.event_name == 'push'"));
        assert!(GITLAB_CI.contains("GIT_DEPTH: \"0\""));
        // GitLab keeps the history cache too: saved on the default branch, pulled by merge
        // requests.
        let job = crate::yaml::parse(GITLAB_CI, crate::yaml::Limits::default())
            .ok()
            .flatten()
            .and_then(|d| d.get("auditbook").cloned());
        let job = job.as_ref();
        let policy_when = |event: &str| {
            let rules = job.and_then(|j| j.get("rules")).and_then(|r| r.as_seq());
            rules?
                .iter()
                .find(|r| r.get("if").and_then(|i| i.as_scalar()) == Some(event))?
                .get("variables")?
                .get("AUDITBOOK_HISTORY_CACHE")?
                .as_scalar()
                .map(str::to_string)
        };
        assert_eq!(
            policy_when("$CI_PIPELINE_SOURCE == \"merge_request_event\"").as_deref(),
            Some("pull")
        );
        assert_eq!(
            policy_when("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH").as_deref(),
            Some("pull-push")
        );
        let caches = job.and_then(|j| j.get("cache")).and_then(|c| c.as_seq());
        let history = caches.and_then(|c| {
            c.iter().find(|c| {
                c.get("paths")
                    .and_then(|p| p.as_seq())
                    .is_some_and(|p| p.iter().any(|p| p.as_scalar() == Some(".git/auditbook/")))
            })
        });
        let field = |k: &str| history.and_then(|h| h.get(k)).and_then(|v| v.as_scalar());
        assert_eq!(field("key"), Some("auditbook-history-$CI_DEFAULT_BRANCH"));
        assert_eq!(field("policy"), Some("$AUDITBOOK_HISTORY_CACHE"));
        assert_eq!(field("unprotect"), Some("true"));
        assert!(GITLAB_CI.contains("--format junit"));
        assert!(GITLAB_CI.contains("--format gitlab"));
        assert!(GITLAB_CI.contains("codequality: auditbook-codequality.json"));
        assert!(GITLAB_CI.contains("--base=origin/$CI_MERGE_REQUEST_TARGET_BRANCH_NAME"));
        assert!(PRE_COMMIT_HOOKS.contains("id: auditbook-check"));
        for t in [GITHUB_ACTIONS, GITLAB_CI, PRE_COMMIT_HOOKS, ACTION] {
            let parsed = crate::yaml::parse(t, crate::yaml::Limits::default());
            assert!(
                matches!(parsed, Ok(Some(_))),
                "a template is not valid YAML"
            );
        }
        for (_, t) in FILES {
            assert!(t.contains(REPOSITORY_PLACEHOLDER) || t.contains(ACTION_PLACEHOLDER));
        }
        assert!(
            !with_repository(GITLAB_CI, "https://example.org/auditbook.git")
                .contains(REPOSITORY_PLACEHOLDER)
        );
    }
}
