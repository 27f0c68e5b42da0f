//! Function output: forwarded to the runner's stdout with the function's name,
//! and kept in memory (bounded) so tests can read what a function logged.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Mutex;

/// Lines kept per function; older lines are dropped first.
const CAPACITY: usize = 20_000;

#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: Mutex<VecDeque<String>>,
}

impl LogBuffer {
    pub fn push(&self, line: String) {
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == CAPACITY {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }

    /// Every captured line, oldest first.
    pub fn snapshot(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }
}

/// Writes one function line to stdout as `[name] line`.
pub fn echo(function: &str, line: &str) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // A closed stdout must not take the function down with it.
    let _ = writeln!(out, "[{function}] {line}");
}
