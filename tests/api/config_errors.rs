//! Configuration mistakes stop the binary with a message that says what to fix.

use std::io::Write;
use std::process::{Command, Output};

fn shadowtap(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shadowtap"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SHADOWTAP_CONFIG")
        .env("SHADOWTAP_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    println!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn config_file(text: &str) -> tempfile_path::TempPath {
    tempfile_path::TempPath::with(text)
}

/// A minimal temporary file helper (no extra dependency).
mod tempfile_path {
    use super::Write;

    pub struct TempPath(pub std::path::PathBuf);

    impl TempPath {
        pub fn with(text: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "shadowtap-test-{}.toml",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::File::create(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            Self(path)
        }

        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn unknown_key_is_named() {
    let file = config_file("[tap]\nlisten = \"127.0.0.1:0\"\nupstreem = \"http://x\"\n");
    let out = shadowtap(&["serve", "--config", file.as_str()], &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unknown config key `tap.upstreem`"), "{err}");
    assert!(
        err.contains("upstream"),
        "the message lists the valid keys: {err}"
    );

    let out = shadowtap(&["serve"], &[("SHADOWTAP_BUS__KINDD", "kafka")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("SHADOWTAP_BUS__KINDD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_candidate_key_variable_is_named() {
    let file = config_file(
        "[[candidates]]\nname = \"groq\"\nbase_url = \"http://127.0.0.1:9\"\napi_key_env = \"SHADOWTAP_DOES_NOT_EXIST_KEY\"\n",
    );
    let out = shadowtap(
        &[
            "serve",
            "--config",
            file.as_str(),
            "--listen",
            "127.0.0.1:0",
            "--ui-listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("SHADOWTAP_DOES_NOT_EXIST_KEY")
            && err.contains("groq")
            && err.contains("not set"),
        "{err}"
    );
}

#[test]
fn unreachable_database_says_so() {
    let out = shadowtap(
        &["migrate"],
        &[(
            "DATABASE_URL",
            "postgres://postgres:hunter2@127.0.0.1:1/nowhere",
        )],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cannot use the database at 127.0.0.1:1/nowhere"),
        "{err}"
    );
    assert!(
        !err.contains("hunter2"),
        "credentials are never printed: {err}"
    );

    let out = shadowtap(&["migrate"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("DATABASE_URL"), "{}", stderr(&out));
}

#[test]
fn bad_flags_and_values_are_explained() {
    let out = shadowtap(&["serve", "--bus", "nats"], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("use memory or kafka"),
        "{}",
        stderr(&out)
    );
    let out = shadowtap(&["tap", "--bus", "memory", "--listen", "127.0.0.1:0"], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("use `shadowtap serve`"),
        "{}",
        stderr(&out)
    );
    let out = shadowtap(&["serve", "--upstream", "ftp://example"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("tap.upstream"), "{}", stderr(&out));
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["serve", "tap", "worker", "ui", "migrate", "demo"] {
        let out = shadowtap(&[sub, "--help"], &[]);
        assert!(out.status.success(), "{sub} --help");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{sub}"
        );
    }
}
