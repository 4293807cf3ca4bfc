//! A server that is not Argo CD: a plain TCP listener on 127.0.0.1 that
//! answers every connection with one canned HTTP response, whatever it was
//! sent (a request, or a TLS ClientHello), and counts the connections. The
//! simulator cannot count attempts that never became a parsed request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A running canned server; its thread lives as long as the test process.
pub struct CannedServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl CannedServer {
    /// Answers `HTTP/1.1 <status>` with this content type and body, then closes.
    pub fn start(status: &str, content_type: &str, body: &str) -> CannedServer {
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("bound address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                // Read what the client sent first, as a server would, then answer.
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.flush();
            }
        });
        CannedServer { addr, accepted }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}
