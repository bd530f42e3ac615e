//! The HTTP/1.1 subset `serve` speaks: one GET or HEAD request per connection, no request bodies.
//!
//! Our own few lines instead of an HTTP library, so that every bound is ours: the request head is
//! read with a size cap (8 KiB, 64 header lines) under a read timeout, a request that announces a
//! body (`Content-Length` other than 0, `Transfer-Encoding`) is refused before a byte of it is read
//! (an HTTP library that drains or buffers the announced length can be made to allocate
//! 99999999999 bytes), and every response closes the connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Largest request head (request line and headers) read.
pub const MAX_HEAD: u64 = 8 * 1024;
/// Most header lines read.
pub const MAX_HEADERS: usize = 64;
/// How long a connection may take to send its request head, or to take the response.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A request head.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/path?query`).
    pub target: String,
    /// (name, value), names as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Every value of a header (names compared without case).
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the request announces a body: `Transfer-Encoding`, or a `Content-Length` that is
    /// not 0.
    pub fn has_body(&self) -> bool {
        !self.values("Transfer-Encoding").is_empty()
            || self
                .values("Content-Length")
                .iter()
                .any(|v| v.trim() != "0")
    }
}

/// Why a request head could not be read: the status to answer with (`None`: just close).
#[derive(Debug)]
pub struct Refusal {
    pub status: Option<u16>,
    pub reason: &'static str,
}

/// Read one request head from `stream`, within [`MAX_HEAD`] bytes and [`MAX_HEADERS`] lines.
pub fn read_request(stream: &TcpStream) -> Result<Request, Refusal> {
    let mut reader = BufReader::new(stream.take(MAX_HEAD));
    let mut line = String::new();
    let mut next_line = |line: &mut String| -> Result<(), Refusal> {
        line.clear();
        match reader.read_line(line) {
            Ok(0) => Err(Refusal {
                status: None,
                reason: "closed",
            }),
            Ok(_) if !line.ends_with('\n') => Err(Refusal {
                status: Some(431),
                reason: "request head too large",
            }),
            Ok(_) => Ok(()),
            Err(_) => Err(Refusal {
                status: None,
                reason: "read failed or timed out",
            }),
        }
    };
    next_line(&mut line)?;
    let mut parts = line.trim_end().split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal {
            status: Some(400),
            reason: "malformed request line",
        });
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(Refusal {
            status: Some(400),
            reason: "malformed request line",
        });
    }
    let mut request = Request {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
    };
    loop {
        next_line(&mut line)?;
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            return Ok(request);
        }
        if request.headers.len() >= MAX_HEADERS {
            return Err(Refusal {
                status: Some(431),
                reason: "too many header lines",
            });
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(Refusal {
                status: Some(400),
                reason: "malformed header line",
            });
        };
        request
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
}

/// Write a whole response and close: status, headers, `Content-Length`, and the body unless
/// `head_only`.
pub fn respond(
    mut stream: &TcpStream,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes)?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}
