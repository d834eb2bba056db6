//! Progress of a batch on stderr: one line per state change, or, on a terminal, one bar kept
//! at the bottom with the lines that matter (failures, notes) printed above it.

use std::io::{IsTerminal, Write};

use super::report::Report;

pub(crate) struct Progress {
    terminal: bool,
    /// Whether a bar is on screen (to clear before printing a line).
    bar_shown: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            bar_shown: false,
        }
    }

    fn clear_bar(&mut self, err: &mut impl Write) {
        if self.bar_shown {
            let _ = write!(err, "\r\x1b[2K");
            self.bar_shown = false;
        }
    }

    /// A line that stays (a note, a failure, the summary).
    pub fn say(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        self.clear_bar(&mut err);
        let _ = writeln!(err, "{text}");
    }

    /// A line of data on stdout (a saved result), with the bar out of its way.
    pub fn data(&mut self, text: &str) {
        if self.bar_shown {
            let mut err = std::io::stderr().lock();
            self.clear_bar(&mut err);
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// A state change: its own line when stderr is not a terminal, else the bar is redrawn
    /// (finished states also stay as a line above it).
    pub fn state(&mut self, text: &str, finished: bool, report: &Report) {
        if !self.terminal {
            self.say(text);
            return;
        }
        if finished {
            self.say(text);
        }
        self.bar(report);
    }

    fn bar(&mut self, report: &Report) {
        let total = report.lines.len().max(1);
        let finished = report.done + report.failed + report.cancelled;
        let width = 24;
        let filled = finished * width / total;
        let running = report
            .lines
            .iter()
            .filter(|l| {
                !matches!(
                    l.state.as_str(),
                    "queued" | "done" | "failed" | "invalid" | "cancelled"
                )
            })
            .count();
        let mut err = std::io::stderr().lock();
        self.clear_bar(&mut err);
        let _ = write!(
            err,
            "[{}{}] {finished}/{total} · {} done · {} failed · {running} running · ${:.2}",
            "#".repeat(filled),
            ".".repeat(width - filled),
            report.done,
            report.failed,
            report.total_cost
        );
        let _ = err.flush();
        self.bar_shown = true;
    }

    /// Leaves the terminal on a fresh line.
    pub fn end(&mut self) {
        let mut err = std::io::stderr().lock();
        if self.bar_shown {
            let _ = writeln!(err);
            self.bar_shown = false;
        }
    }
}
