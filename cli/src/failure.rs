//! How a command fails: [`Failure`] (printed as `Kind: message`) and the exit statuses.

use rpc_core::Error;

/// Exit status for an error reply from the peer.
pub(crate) const EXIT_REMOTE: u8 = 1;
/// Exit status for a usage error (bad arguments, bad TLS files).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status when the endpoint could not be reached or did not answer in time.
pub(crate) const EXIT_UNREACHABLE: u8 = 3;

/// Why a command failed: printed as `Kind: message`, exits with `status`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: String,
    pub(crate) message: String,
    pub(crate) status: u8,
}

impl Failure {
    /// A usage error: bad arguments.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: "UsageError".to_owned(),
            message: message.into(),
            status: EXIT_USAGE,
        }
    }

    /// A TLS setup error (bad certificate or key files): a usage error of its own kind.
    pub(crate) fn tls(message: impl Into<String>) -> Self {
        Failure {
            kind: "TlsError".to_owned(),
            message: message.into(),
            status: EXIT_USAGE,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        if let Some(remote) = e.remote() {
            return Failure {
                kind: remote.kind().to_owned(),
                message: remote.message().to_owned(),
                status: EXIT_REMOTE,
            };
        }
        let kind = match &e {
            Error::Timeout(_) => "TimeoutError",
            Error::Connect { .. } => "ConnectionError",
            Error::InvalidAddr { .. } | Error::NoFunctionName => "UsageError",
            e if e.is_connection_reset() => "ConnectionResetError",
            _ => "RpcError",
        };
        let status = if kind == "UsageError" {
            EXIT_USAGE
        } else {
            EXIT_UNREACHABLE
        };
        Failure {
            kind: kind.to_owned(),
            message: e.to_string(),
            status,
        }
    }
}
