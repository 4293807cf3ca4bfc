//! A stand-in for Vault's `/v1/sys/health` on loopback, for the Vault
//! critical check: it answers as Vault does (vault/http/sys_health.go:
//! 200 active, 503 sealed, the same JSON body with `initialized`, `sealed`
//! and `standby`), sealed until a test unseals it, and counts its requests.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// The stand-in; it stops with the test process.
pub struct FakeVault {
    /// Its base URL, `http://127.0.0.1:<port>`, as health.yaml's `vault.url` takes it.
    pub url: String,
    sealed: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl FakeVault {
    /// Starts one, sealed.
    pub fn start() -> FakeVault {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sealed = Arc::new(AtomicBool::new(true));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, r) = (sealed.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&request);
                let (status, body) = if line.starts_with("GET /v1/sys/health ") {
                    r.fetch_add(1, Ordering::SeqCst);
                    let sealed = s.load(Ordering::SeqCst);
                    let body = format!(
                        r#"{{"initialized":true,"sealed":{sealed},"standby":{sealed},"version":"1.17.0"}}"#
                    );
                    (
                        if sealed {
                            "503 Service Unavailable"
                        } else {
                            "200 OK"
                        },
                        body,
                    )
                } else {
                    ("404 Not Found", r#"{"errors":[]}"#.to_owned())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeVault {
            url,
            sealed,
            requests,
        }
    }

    /// Unseals it: from now on it answers 200, active.
    pub fn unseal(&self) {
        self.sealed.store(false, Ordering::SeqCst);
    }

    /// How many health requests it has answered.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
