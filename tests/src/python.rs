//! Starting Python aiomas peers from a test: the venv's interpreter, the scripts in
//! `tests/python/`, and a process whose output lines the test waits for.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// Bound for any one step that waits on a peer (a readiness line, a process exit).
pub const STEP: Duration = Duration::from_secs(30);

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The venv's python, or `None` when `RPC_SKIP_PYTHON` is set and there is none. Panics (fails
/// the test) when there is no Python and skipping was not asked for.
pub fn python() -> Option<PathBuf> {
    let skip = std::env::var_os("RPC_SKIP_PYTHON").is_some_and(|v| !v.is_empty() && v != "0");
    let candidate = match std::env::var_os("RPC_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace().join("target/py-venv/bin/python"),
    };
    if candidate.exists() {
        return Some(candidate);
    }
    if skip {
        eprintln!("RPC_SKIP_PYTHON is set: the Python aiomas interop test did NOT run");
        return None;
    }
    panic!(
        "no Python with aiomas found at {} (set RPC_PYTHON, or run scripts/test.sh, which \
         builds the venv with scripts/python-env.sh; RPC_SKIP_PYTHON=1 skips these tests)",
        candidate.display()
    );
}

/// A child process whose stdout lines arrive on a channel; killed on drop. Its stdin stays
/// open until then (the Python peers exit when it closes).
#[derive(Debug)]
pub struct Proc {
    child: Child,
    _stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Starts `command` with piped stdin and stdout (stderr goes to the test's).
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc {
            _stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Starts `tests/python/<script>` with `args` in the venv's `python`.
    pub fn python(python: &Path, script: &str, args: &[&str]) -> Self {
        let mut cmd = Command::new(python);
        cmd.arg(workspace().join("tests/python").join(script))
            .args(args)
            .current_dir(workspace().join("tests/python"));
        Proc::spawn(cmd)
    }

    /// Waits for a line that starts with `prefix` and returns the rest of it.
    pub async fn expect_line(&mut self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Ok(None) => panic!(
                    "the process exited before printing {prefix:?}; it printed {:?}",
                    self.seen
                ),
                Err(_) => panic!(
                    "no {prefix:?} line within {STEP:?}; the process printed {:?}",
                    self.seen
                ),
            }
        }
    }

    /// Every line printed until the process closes stdout, and its exit status, within
    /// [`STEP`].
    pub async fn finish(self) -> (Vec<String>, std::process::ExitStatus) {
        self.finish_within(STEP).await
    }

    /// [`finish`](Self::finish) for a process that works longer, within `bound`.
    pub async fn finish_within(
        mut self,
        bound: Duration,
    ) -> (Vec<String>, std::process::ExitStatus) {
        let mut out = std::mem::take(&mut self.seen);
        self._stdin = None;
        let collect = async {
            while let Some(line) = self.lines.recv().await {
                out.push(line);
            }
            self.child
                .wait()
                .await
                .expect("cannot wait for the process")
        };
        let status = tokio::time::timeout(bound, collect)
            .await
            .expect("the process did not finish in time");
        (out, status)
    }
}
