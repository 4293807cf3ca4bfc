//! The live progress view for DAG runs on a terminal: one line per node in
//! flight, counts of done, failed, skipped and pending, and the elapsed time.
//!
//! It draws on stderr below the log lines. Log lines go through
//! [`ProgressView::make_writer`], which lifts the view, prints the line and
//! draws the view again, so the two never interleave. It is only enabled for
//! text logs on a terminal; JSON logs never share stderr with it.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::dag::schedule::Event;

/// Lines of in-flight nodes shown at most; the rest are summarised.
const MAX_LINES: usize = 12;

struct View {
    names: Vec<String>,
    in_flight: BTreeMap<usize, Instant>,
    done: usize,
    failed: usize,
    skipped: usize,
    started: Instant,
    drawn: usize,
    finished: bool,
}

/// A cheap handle on the view.
#[derive(Clone)]
pub struct ProgressView(Arc<Mutex<View>>);

impl ProgressView {
    /// A view over nodes named `names` (indexed as the scheduler indexes them).
    pub fn new(names: Vec<String>) -> Self {
        ProgressView(Arc::new(Mutex::new(View {
            names,
            in_flight: BTreeMap::new(),
            done: 0,
            failed: 0,
            skipped: 0,
            started: Instant::now(),
            drawn: 0,
            finished: false,
        })))
    }

    /// Records a scheduler event and redraws.
    pub fn event(&self, event: Event) {
        let mut view = self.0.lock().unwrap();
        match event {
            Event::Started(node) => {
                view.in_flight.insert(node, Instant::now());
            }
            Event::Finished { node, ready } => {
                view.in_flight.remove(&node);
                if ready {
                    view.done += 1;
                } else {
                    view.failed += 1;
                }
            }
            Event::Skipped { .. } => view.skipped += 1,
        }
        view.redraw();
    }

    /// Redraws every second until the view is finished, so elapsed times move.
    pub fn spawn_ticker(&self) -> tokio::task::JoinHandle<()> {
        let view = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let mut v = view.0.lock().unwrap();
                if v.finished {
                    return;
                }
                v.redraw();
            }
        })
    }

    /// Erases the view for good; the summary follows on stdout.
    pub fn finish(&self) {
        let mut view = self.0.lock().unwrap();
        view.erase();
        view.finished = true;
    }

    /// A `tracing` writer that prints log lines above the view.
    pub fn make_writer(&self) -> LogWriter {
        LogWriter(self.0.clone())
    }
}

impl View {
    fn erase(&mut self) {
        let mut err = std::io::stderr().lock();
        for _ in 0..self.drawn {
            let _ = err.write_all(b"\x1b[1A\x1b[2K");
        }
        self.drawn = 0;
    }

    fn redraw(&mut self) {
        if self.finished {
            return;
        }
        self.erase();
        let total = self.names.len();
        let pending =
            total.saturating_sub(self.done + self.failed + self.skipped + self.in_flight.len());
        let elapsed = self.started.elapsed().as_secs();
        let mut lines = vec![format!(
            "[{:02}:{:02}] {}/{} ready, {} failed, {} skipped, {} running, {} pending",
            elapsed / 60,
            elapsed % 60,
            self.done,
            total,
            self.failed,
            self.skipped,
            self.in_flight.len(),
            pending
        )];
        for (node, since) in self.in_flight.iter().take(MAX_LINES) {
            lines.push(format!(
                "  > {:<32} {:>5.1}s",
                self.names[*node],
                since.elapsed().as_secs_f64()
            ));
        }
        if self.in_flight.len() > MAX_LINES {
            lines.push(format!("  … and {} more", self.in_flight.len() - MAX_LINES));
        }
        let mut err = std::io::stderr().lock();
        for line in &lines {
            let _ = writeln!(err, "{line}");
        }
        self.drawn = lines.len();
    }
}

/// Writes one log line above the view.
pub struct LogWriter(Arc<Mutex<View>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut view = self.0.lock().unwrap();
        view.erase();
        std::io::stderr().lock().write_all(buf)?;
        view.redraw();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ProgressView {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(self.0.clone())
    }
}
