//! TLS failures that no retry can fix: a peer that does not speak TLS, a
//! certificate that fails verification, a handshake the server refuses.
//! Told apart by rustls' error type, found in reqwest's error chain.

use std::error::Error;

/// Why a TLS handshake failed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The peer answered with something that is not a TLS record, such as
    /// `HTTP/1.1 400 Bad Request`: a plain-http port addressed with https://.
    NotTls,
    /// The server's certificate did not verify against the trusted roots, or
    /// not for the host name.
    Certificate,
    /// The server refused the handshake (an alert, no common protocol version
    /// or cipher suite).
    Refused,
}

impl TlsFailure {
    /// What to do about it, for the report.
    pub fn hint(self) -> &'static str {
        match self {
            TlsFailure::NotTls => "the server does not speak TLS; use http:// explicitly",
            TlsFailure::Certificate => "the server's certificate is not trusted for this host name; pass the CA bundle that signed it with --argocd-ca-file (ARGOCD_CA_FILE), or name the host the certificate is for in --argocd-server",
            TlsFailure::Refused => "the server refused the TLS handshake; check that --argocd-server names Argo CD's own TLS endpoint",
        }
    }

    /// The class of one rustls error; `None` for errors that are not about
    /// the peer (a local failure, or one a retry may cure).
    fn of(error: &rustls::Error) -> Option<TlsFailure> {
        use rustls::Error as E;
        match error {
            // The first bytes of a plain-http answer do not parse as a TLS record
            // ('H' is no content type: InvalidContentType), or parse as an
            // impossible length.
            E::InvalidMessage(_) | E::PeerSentOversizedRecord => Some(TlsFailure::NotTls),
            E::InvalidCertificate(_)
            | E::NoCertificatesPresented
            | E::UnsupportedNameType
            | E::InvalidCertRevocationList(_) => Some(TlsFailure::Certificate),
            E::AlertReceived(_)
            | E::PeerIncompatible(_)
            | E::PeerMisbehaved(_)
            | E::InappropriateMessage { .. }
            | E::InappropriateHandshakeMessage { .. }
            | E::NoApplicationProtocol => Some(TlsFailure::Refused),
            _ => None,
        }
    }
}

/// The TLS failure somewhere in `error`'s chain, with rustls' own words for
/// it. rustls' error travels inside an `io::Error` (inside another, from
/// hyper-util's connector), and `io::Error::source` skips what it wraps, so
/// the walk opens every `io::Error` with `get_ref` instead.
pub fn tls_failure(error: &(dyn Error + 'static)) -> Option<(TlsFailure, String)> {
    let mut link = Some(error);
    while let Some(e) = link {
        if let Some(rustls) = e.downcast_ref::<rustls::Error>() {
            return TlsFailure::of(rustls).map(|failure| (failure, rustls.to_string()));
        }
        link = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause, like hyper-util's `ConnectError` around the
    /// `io::Error` that tokio-rustls returns.
    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    /// The chain reqwest returns: `Connect`, an `io::Error` of kind Other,
    /// one of kind InvalidData, then rustls' error.
    fn wrapped(error: rustls::Error) -> Wrapped {
        let invalid = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
        Wrapped(std::io::Error::other(invalid))
    }

    #[test]
    fn tls_failures_are_classed_by_rustls_error() {
        use rustls::{AlertDescription, CertificateError, InvalidMessage};
        let cases = [
            (
                rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType),
                Some(TlsFailure::NotTls),
            ),
            (
                rustls::Error::PeerSentOversizedRecord,
                Some(TlsFailure::NotTls),
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                Some(TlsFailure::Certificate),
            ),
            (
                rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
                Some(TlsFailure::Certificate),
            ),
            (
                rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
                Some(TlsFailure::Refused),
            ),
            (rustls::Error::FailedToGetRandomBytes, None),
        ];
        for (error, want) in cases {
            let text = error.to_string();
            let got = tls_failure(&wrapped(error));
            assert_eq!(got.as_ref().map(|(f, _)| *f), want, "{text}");
            if let Some((_, detail)) = got {
                assert_eq!(detail, text);
            }
        }
    }

    /// Connection errors that are not TLS stay transient.
    #[test]
    fn other_connection_errors_are_no_tls_failure() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(tls_failure(&Wrapped(refused)), None);
        let eof = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert_eq!(tls_failure(&Wrapped(eof)), None);
    }
}
