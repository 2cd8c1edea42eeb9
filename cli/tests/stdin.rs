//! The `warden` binary itself: `-` reads an input from stdin, and exit codes reach the shell.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn user_from_stdin() {
    let dir = std::env::temp_dir().join(format!("warden-stdin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rule = dir.join("r.rule");
    std::fs::write(&rule, "rule \"verify\" { deny \"Please verify.\" unless user.email_verified }\n").expect("write");
    let ctx = dir.join("c.json");
    std::fs::write(&ctx, "{}").expect("write");
    for (user, code) in
        [(r#"{"user_id": "auth0|1", "email_verified": true}"#, 0), (r#"{"user_id": "auth0|1"}"#, 3), ("{", 1)]
    {
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["run", rule.to_str().expect("utf-8"), "--user", "-", "--context", ctx.to_str().expect("utf-8")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("warden runs");
        child.stdin.take().expect("stdin").write_all(user.as_bytes()).expect("write stdin");
        let out = child.wait_with_output().expect("exits");
        assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
        if code == 1 {
            assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
