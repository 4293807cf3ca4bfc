//! The newline-delimited JSON event stream of `GET /api/v1/stream/applications`.

use super::error::{error_chain, ArgoError};
use super::types::{StreamLine, WatchEvent};

/// An open watch stream. Reading is cancel-safe: a partial line stays buffered.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    project: Option<String>,
}

impl EventStream {
    pub(super) fn new(response: reqwest::Response, project: Option<String>) -> Self {
        Self {
            response,
            buffer: Vec::new(),
            project,
        }
    }

    /// The next event; `Ok(None)` when the server closed the stream.
    pub async fn next_event(&mut self) -> Result<Option<WatchEvent>, ArgoError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                if let Some(event) = self.parse(&line)? {
                    return Ok(Some(event));
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => {
                    // A last line without its newline still counts.
                    let rest = std::mem::take(&mut self.buffer);
                    return self.parse(&rest);
                }
                Err(e) => {
                    return Err(ArgoError::Unavailable {
                        what: "watch stream".to_owned(),
                        attempts: 1,
                        last: error_chain(&e),
                    })
                }
            }
        }
    }

    fn parse(&self, line: &[u8]) -> Result<Option<WatchEvent>, ArgoError> {
        decode_line(line, self.project.as_deref())
    }
}

/// One line of the stream: an event, nothing (a blank line), or the error
/// argocd-server sent in the event's place. `project` types that error as
/// [`ArgoError::from_body`] does.
pub fn decode_line(line: &[u8], project: Option<&str>) -> Result<Option<WatchEvent>, ArgoError> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Ok(None);
    }
    let parsed: StreamLine = serde_json::from_slice(line).map_err(|source| ArgoError::Decode {
        what: "watch stream event".to_owned(),
        source,
    })?;
    if let Some(err) = parsed.error {
        return Err(ArgoError::from_body(
            "watch",
            "",
            err.http_code,
            err.grpc_code,
            err.message,
            project,
        ));
    }
    Ok(parsed.result)
}
