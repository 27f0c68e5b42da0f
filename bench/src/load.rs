//! What else the machine was doing: on a shared machine, figures mean little
//! without it. Read from /proc (Linux); empty where that is missing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn one_minute() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// The highest 1-minute load average while the bench runs, sampled every 10 s on
/// a thread of its own: a run of someone else's that starts and ends mid-bench
/// shows here, not in the samples at the start and the end.
pub struct Watch {
    highest: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Watch {
    pub fn start() -> Self {
        let (highest, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
        let (h, s) = (highest.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(load) = one_minute() {
                    h.fetch_max((load * 100.0) as u64, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_secs(10));
            }
        });
        Self { highest, stop }
    }

    /// Stops sampling; the highest 1-minute load average seen.
    pub fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        self.highest.load(Ordering::Relaxed) as f64 / 100.0
    }
}

/// CPU ticks (user + system) of every process, by pid.
fn ticks() -> HashMap<u32, u64> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return HashMap::new() };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let f: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            Some((pid, f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?))
        })
        .collect()
}

/// The program's name and its first arguments: enough to say what it was.
fn command(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut args = raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned());
    let Some(program) = args.next() else {
        return std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
    };
    let name = program.rsplit('/').next().unwrap_or(&program).to_owned();
    let text = std::iter::once(name).chain(args).collect::<Vec<_>>().join(" ");
    text.chars().take(80).collect()
}

/// Other processes that used more than `min_share` of a core over `window`
/// (blocking), busiest first: (command line, share of a core).
pub fn busy_processes(window: Duration, min_share: f64) -> Vec<(String, f64)> {
    let before = ticks();
    std::thread::sleep(window);
    let me = std::process::id();
    let mut busy: Vec<(String, f64)> = ticks()
        .into_iter()
        .filter(|(pid, _)| *pid != me)
        .filter_map(|(pid, after)| {
            let used = after.saturating_sub(*before.get(&pid)?) as f64 / 100.0 / window.as_secs_f64();
            (used > min_share).then(|| (command(pid), used))
        })
        .collect();
    busy.sort_by(|a, b| b.1.total_cmp(&a.1));
    busy
}

/// One clause for the report: `when` is "at the start", "at the end".
pub fn describe(when: &str, busy: &[(String, f64)]) -> String {
    if busy.is_empty() {
        return format!("{when}, no other process used more than 5% of a core (3 s sample)");
    }
    let list: Vec<String> = busy.iter().map(|(c, s)| format!("`{c}` ({:.0}% of a core)", s * 100.0)).collect();
    format!("{when}, busy besides the bench (3 s sample): {}", list.join(", "))
}
