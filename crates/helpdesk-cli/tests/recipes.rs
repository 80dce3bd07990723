//! The README's shell recipe ("In your test suite"), run with bash exactly
//! as printed: from the project's root, where its fixtures path resolves,
//! with the built `helpdesk` on PATH. (The pytest and node:test recipes are
//! run by conformance/python/test_recipes.py and
//! conformance/node/test/recipes.test.js; the Rust one is the emulator's
//! test `recipe.rs`, which this checks is the README's text.)
//!
//! An ephemeral server is always the embedded backend, whatever this pass's
//! backend: the recipe runs without the HELPDESK_* variables the test
//! command may export, as a user's CI job would (with the postgres-s3
//! pass's HELPDESK_DATABASE_URL, `--ephemeral` refuses to start).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use helpdesk_testkit::binary::bin;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced block right after `<!-- recipe: NAME -->` in the README.
fn recipe(name: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let marker = format!("<!-- recipe: {name} -->\n");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("the README has no {marker:?}"));
    let block = &readme[at + marker.len()..];
    assert!(
        block.starts_with("```"),
        "{marker:?} is not followed by a fenced block"
    );
    let body = &block[block.find('\n').unwrap() + 1..];
    body[..body.find("\n```\n").expect("the block ends")].to_string() + "\n"
}

/// Runs `script` with bash as a CI job would: from the project's root,
/// `bin_dir` first on PATH, TMPDIR at `tmp`, no HELPDESK_* variables.
fn run_script(script: &str, bin_dir: &Path, tmp: &Path) -> Output {
    let file = tmp.join("ci.sh");
    std::fs::write(&file, script).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(&file)
        .current_dir(root())
        .env("PATH", path)
        .env("TMPDIR", tmp);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HELPDESK_") {
            cmd.env_remove(key);
        }
    }
    cmd.output().unwrap()
}

/// What the script left in TMPDIR, beside itself.
fn left_behind(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "ci.sh")
        .collect()
}

#[test]
fn the_shell_recipe_gets_a_tenant_token_and_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(bin()).parent().unwrap();
    let out = run_script(&recipe("shell"), bin_dir, tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the recipe failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // Its stand-in for the tests: the fixtures' app got a token.
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(answer["code"], 0, "{answer}");
    assert!(
        answer["tenant_access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{answer}"
    );
    // The server's directory and the script's own went with it.
    assert_eq!(left_behind(tmp.path()), Vec::<String>::new());
}

#[test]
fn the_shell_recipe_fails_at_once_when_the_server_does_not_start() {
    let tmp = tempfile::tempdir().unwrap();
    // A `helpdesk` that exits as a bad fixtures file makes it exit.
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    let stub = bin_dir.join("helpdesk");
    std::fs::write(
        &stub,
        "#!/bin/sh\necho 'error: fixtures: bad' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();

    let started = Instant::now();
    let out = run_script(&recipe("shell"), &bin_dir, tmp.path());
    assert!(!out.status.success(), "the recipe went on without a server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not start"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(5), "it waited");
    let mut left = left_behind(tmp.path());
    left.retain(|n| n != "bin");
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn the_readme_rust_recipe_is_the_emulator_test_that_runs() {
    let test =
        std::fs::read_to_string(root().join("crates/helpdesk-emulator/tests/recipe.rs")).unwrap();
    assert_eq!(
        recipe("rust"),
        test,
        "the README's Rust recipe and crates/helpdesk-emulator/tests/recipe.rs must be the same text"
    );
}
