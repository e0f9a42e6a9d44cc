//! A lean HTTP/1.1 exchange for plain-HTTP loopback endpoints (the embedded simulator, `ecsh
//! sim`, a test server on this machine): the request goes out in one write, the answer's head
//! is parsed with `httparse`, its body framed by Content-Length or chunked encoding, and the
//! connection kept alive in a small pool.
//!
//! Why it exists: on loopback, hyper/reqwest's per-request machinery (URL parsing, header maps,
//! the pool's and tower's services, body streams) was most of ecsh's client CPU per call
//! (BENCHMARKS.md, "Client overhead per API call"). No proxy, TLS or HTTP/2 can be involved
//! on a loopback `http://` endpoint, so none of that is needed there; everything else (the
//! cloud over HTTPS, any remote endpoint) still goes through reqwest. Only the bytes on the
//! wire are produced here: signing, retries and the classification of answers are shared
//! (`transport.rs`), so both paths behave alike.

use std::io;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response head larger than this is not an API answer.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// Idle connections kept per client (parallel releases use a few at once).
const MAX_IDLE: usize = 8;

/// A keep-alive connection pool to one loopback `host:port`.
pub(crate) struct Loopback {
    /// `host:port`: where to connect, and the `Host` header.
    authority: String,
    connect_timeout: Duration,
    idle: Mutex<Vec<TcpStream>>,
}

/// One answer: status, the `x-acs-retry-after` wait when given, and the whole body.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// Why an exchange got no answer.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    ConnectTimeout,
    Io(io::Error),
    /// The peer's bytes are not an HTTP/1 answer.
    Malformed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExchangeError::ConnectTimeout => f.write_str("connecting timed out"),
            ExchangeError::Io(e) => write!(f, "{e}"),
            ExchangeError::Malformed(m) => write!(f, "the answer is not valid HTTP/1.1: {m}"),
        }
    }
}

/// A failed attempt on one connection; `unanswered` when the peer closed (or reset) it before
/// sending a byte, which on a reused keep-alive connection means it had closed an idle one.
struct Attempt {
    error: ExchangeError,
    unanswered: bool,
}

impl From<ExchangeError> for Attempt {
    fn from(error: ExchangeError) -> Attempt {
        Attempt {
            error,
            unanswered: false,
        }
    }
}

impl Loopback {
    /// `base_url` is `http://host:port` (no path), as `endpoint::normalize_override` leaves it.
    /// `None` when it is not a plain-HTTP loopback URL.
    pub(crate) fn for_url(base_url: &str, connect_timeout: Duration) -> Option<Loopback> {
        let authority = base_url.strip_prefix("http://")?;
        if !super::endpoint::is_loopback(base_url) || authority.contains('/') {
            return None;
        }
        let authority = if authority.contains(':') && !authority.ends_with(']') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Some(Loopback {
            authority,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// The bytes of one request: `target` is the path and query (`/?…`), `body` the form body
    /// of a POST (`None` for a GET).
    pub(crate) fn request(&self, method: &str, target: &str, body: Option<&str>) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + target.len() + body.map_or(0, str::len));
        let mut push = |s: &str| out.extend_from_slice(s.as_bytes());
        push(method);
        push(" ");
        push(target);
        push(" HTTP/1.1\r\nHost: ");
        push(&self.authority);
        push(concat!(
            "\r\nUser-Agent: ecsh/",
            env!("CARGO_PKG_VERSION"),
            "\r\nAccept: application/json\r\n"
        ));
        if let Some(body) = body {
            push("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
            push(&body.len().to_string());
            push("\r\n\r\n");
            push(body);
        } else {
            push("\r\n");
        }
        out
    }

    /// Sends `request` and reads the whole answer, on an idle connection when there is one.
    /// A reused connection the server had already closed is replaced once by a fresh one (the
    /// request never reached it, so nothing can happen twice).
    pub(crate) async fn exchange(&self, request: &[u8]) -> Result<Answer, ExchangeError> {
        loop {
            let (mut stream, reused) = match self.checkout() {
                Some(stream) => (stream, true),
                None => (self.connect().await?, false),
            };
            match one_exchange(&mut stream, request).await {
                Ok((answer, keep_alive)) => {
                    if keep_alive {
                        self.checkin(stream);
                    }
                    return Ok(answer);
                }
                Err(a) if a.unanswered && reused => continue,
                Err(a) => return Err(a.error),
            }
        }
    }

    async fn connect(&self) -> Result<TcpStream, ExchangeError> {
        let stream =
            tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.authority))
                .await
                .map_err(|_| ExchangeError::ConnectTimeout)?
                .map_err(|e| {
                    ExchangeError::Io(io::Error::new(
                        e.kind(),
                        format!("cannot connect to {}: {e}", self.authority),
                    ))
                })?;
        // The request is one write and the answer is awaited: never hold it back (Nagle).
        stream.set_nodelay(true).map_err(ExchangeError::Io)?;
        Ok(stream)
    }

    fn checkout(&self) -> Option<TcpStream> {
        self.idle.lock().ok()?.pop()
    }

    fn checkin(&self, stream: TcpStream) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(stream);
            }
        }
    }
}

/// How the body of an answer ends.
#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked,
    /// Neither length nor chunks: the body ends when the server closes the connection.
    UntilClose,
}

/// The parts of a response head the client uses.
#[derive(Debug)]
struct Head {
    status: u16,
    len: usize,
    framing: Framing,
    keep_alive: bool,
    retry_after: Option<Duration>,
}

async fn one_exchange(stream: &mut TcpStream, request: &[u8]) -> Result<(Answer, bool), Attempt> {
    if let Err(e) = stream.write_all(request).await {
        return Err(Attempt {
            unanswered: true,
            error: ExchangeError::Io(e),
        });
    }
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let head = loop {
        match read_more(stream, &mut buf).await {
            Ok(0) | Err(_) if buf.is_empty() => {
                return Err(Attempt {
                    unanswered: true,
                    error: ExchangeError::Io(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the server closed the connection without answering",
                    )),
                })
            }
            Ok(0) => return Err(malformed("the connection closed inside the answer's head").into()),
            Ok(_) => {}
            Err(e) => return Err(ExchangeError::Io(e).into()),
        }
        if let Some(head) = parse_head(&buf)? {
            if (100..200).contains(&head.status) {
                // An interim answer (100 Continue): the real one follows.
                buf.drain(..head.len);
                if !buf.is_empty() {
                    if let Some(head) = parse_head(&buf)? {
                        break head;
                    }
                }
                continue;
            }
            break head;
        }
        if buf.len() > MAX_HEAD {
            return Err(malformed("the answer's head is larger than 64 KiB").into());
        }
    };
    buf.drain(..head.len);
    let (body, keep_alive) = match head.framing {
        _ if head.status == 204 || head.status == 304 => (Vec::new(), head.keep_alive),
        Framing::Length(n) => {
            while buf.len() < n {
                if read_more(stream, &mut buf)
                    .await
                    .map_err(ExchangeError::Io)?
                    == 0
                {
                    return Err(malformed("the connection closed before the whole body").into());
                }
            }
            // Bytes beyond the body would belong to no request: don't reuse the connection.
            let exact = buf.len() == n;
            buf.truncate(n);
            (buf, head.keep_alive && exact)
        }
        Framing::Chunked => loop {
            if let Some((body, used)) = dechunk(&buf)? {
                break (body, head.keep_alive && used == buf.len());
            }
            if read_more(stream, &mut buf)
                .await
                .map_err(ExchangeError::Io)?
                == 0
            {
                return Err(malformed("the connection closed inside a chunked body").into());
            }
        },
        Framing::UntilClose => {
            while read_more(stream, &mut buf)
                .await
                .map_err(ExchangeError::Io)?
                > 0
            {}
            (buf, false)
        }
    };
    Ok((
        Answer {
            status: head.status,
            retry_after: head.retry_after,
            body,
        },
        keep_alive,
    ))
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(8 * 1024);
    stream.read_buf(buf).await
}

fn malformed(what: &str) -> ExchangeError {
    ExchangeError::Malformed(what.to_string())
}

/// The head at the start of `buf`, or `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, ExchangeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(ExchangeError::Malformed(e.to_string())),
    };
    let status = response.code.unwrap_or(0);
    let mut keep_alive = response.version == Some(1);
    let mut framing = Framing::UntilClose;
    let mut retry_after = None;
    for h in response.headers.iter() {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse()
                .map_err(|_| malformed(&format!("Content-Length `{value}` is not a number")))?;
            if !matches!(framing, Framing::Chunked) {
                framing = Framing::Length(n);
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if value.to_ascii_lowercase().ends_with("chunked") {
                framing = Framing::Chunked;
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            }
        } else if h.name.eq_ignore_ascii_case("x-acs-retry-after") {
            retry_after = value
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis);
        }
    }
    if matches!(framing, Framing::UntilClose) {
        keep_alive = false;
    }
    Ok(Some(Head {
        status,
        len,
        framing,
        keep_alive,
        retry_after,
    }))
}

/// Decodes a complete chunked body at the start of `data`: (body, bytes used), or `None`
/// while it is incomplete. Chunk extensions and trailers are skipped.
fn dechunk(data: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ExchangeError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&data[at..]) else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&data[at..at + line_end]).unwrap_or("");
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| malformed(&format!("chunk size `{size_text}` is not hexadecimal")))?;
        at += line_end + 2;
        if size == 0 {
            // Trailers, each a line, up to an empty line.
            loop {
                let Some(end) = find_crlf(&data[at..]) else {
                    return Ok(None);
                };
                at += end + 2;
                if end == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if data.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&data[at..at + size]);
        if &data[at + size..at + size + 2] != b"\r\n" {
            return Err(malformed("a chunk does not end with CRLF"));
        }
        at += size + 2;
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_loopback_urls_take_the_lean_path() {
        let d = Duration::from_secs(1);
        assert_eq!(
            Loopback::for_url("http://127.0.0.1:8080", d)
                .unwrap()
                .authority,
            "127.0.0.1:8080"
        );
        assert_eq!(
            Loopback::for_url("http://localhost", d).unwrap().authority,
            "localhost:80"
        );
        assert_eq!(
            Loopback::for_url("http://[::1]:9", d).unwrap().authority,
            "[::1]:9"
        );
        for other in [
            "https://127.0.0.1:8080",
            "http://ecs.aliyuncs.com",
            "http://10.0.0.1:80",
        ] {
            assert!(Loopback::for_url(other, d).is_none(), "{other}");
        }
    }

    #[test]
    fn a_post_is_one_buffer_with_its_length() {
        let l = Loopback::for_url("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
        let r = String::from_utf8(l.request("POST", "/?A=1", Some("B=2&C=3"))).unwrap();
        assert!(
            r.starts_with("POST /?A=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"),
            "{r}"
        );
        assert!(r.ends_with("Content-Length: 7\r\n\r\nB=2&C=3"), "{r}");
        let g = String::from_utf8(l.request("GET", "/?A=1", None)).unwrap();
        assert!(g.ends_with("Accept: application/json\r\n\r\n"), "{g}");
    }

    #[test]
    fn heads_give_status_framing_and_the_retry_wait() {
        let h = parse_head(
            b"HTTP/1.1 503 Busy\r\ncontent-length: 12\r\nX-Acs-Retry-After: 250\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.status, 503);
        assert!(matches!(h.framing, Framing::Length(12)));
        assert!(h.keep_alive);
        assert_eq!(h.retry_after, Some(Duration::from_millis(250)));
        let closing =
            parse_head(b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!closing.keep_alive);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-len")
            .unwrap()
            .is_none());
        assert!(parse_head(b"NOT HTTP\r\n\r\n").is_err());
        let e = parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").unwrap_err();
        assert!(e.to_string().contains("Content-Length `x`"), "{e}");
    }

    #[test]
    fn chunked_bodies_decode_only_when_complete() {
        let full = b"4\r\nWiki\r\n6;ext=1\r\npedia \r\n0\r\nX-Trailer: 1\r\n\r\n";
        let (body, used) = dechunk(full).unwrap().unwrap();
        assert_eq!(body, b"Wikipedia ");
        assert_eq!(used, full.len());
        for cut in 0..full.len() {
            assert!(dechunk(&full[..cut]).unwrap().is_none(), "cut at {cut}");
        }
        assert!(dechunk(b"zz\r\n").is_err());
        assert!(dechunk(b"2\r\nabXY").is_err());
    }
}
