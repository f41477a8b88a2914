//! The listener's limits: slow headers, slow bodies and idle connections are cut off, and
//! connections beyond the limit wait.

use super::*;

/// Sends `bytes` into `stream` one at a time, `every` apart, reading what comes back, until
/// the server closes the connection or all are sent. Returns what was read, how many bytes
/// were sent and whether (and after how long) the server closed it.
fn trickle(
    stream: &mut std::net::TcpStream,
    bytes: &[u8],
    every: Duration,
) -> (Vec<u8>, usize, Option<Duration>) {
    use std::io::{ErrorKind, Read, Write};
    let started = Instant::now();
    stream.set_read_timeout(Some(every)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for (sent, b) in bytes.iter().enumerate() {
        if stream.write_all(&[*b]).is_err() {
            return (got, sent, Some(started.elapsed()));
        }
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return (got, sent + 1, Some(started.elapsed())),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
                Err(_) => return (got, sent + 1, Some(started.elapsed())),
            }
        }
    }
    (got, bytes.len(), None)
}

/// Reads from `stream` until the server closes it or `within` passes; returns what was
/// read and whether it closed.
fn read_until_closed(stream: &mut std::net::TcpStream, within: Duration) -> (Vec<u8>, bool) {
    use std::io::{ErrorKind, Read};
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

/// Reads one HTTP answer from `stream` (its head, then `content-length` bytes of body)
/// within `within`; `None` unless it came whole.
fn read_answer(stream: &mut std::net::TcpStream, within: Duration) -> Option<String> {
    use std::io::{ErrorKind, Read};
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let l = l.to_ascii_lowercase();
                    l.strip_prefix("content-length:")?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return Some(text);
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn slow_headers_slow_bodies_and_idle_connections_are_cut_off_and_normal_requests_still_work() {
    use std::io::Write;
    use std::net::TcpStream;
    let s = Sluice::new();
    let server = Server::start(
        &s,
        &[
            "--header-read-timeout",
            "1s",
            "--body-read-timeout",
            "1s",
            "--idle-timeout",
            "1s",
        ],
    );
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let anon = Http::new(&server.url, None);

    // Headers trickled a byte every 250 ms (they would take 9 s): cut off after about 1 s,
    // unanswered.
    let head = b"GET /healthz HTTP/1.1\r\nhost: sluice.test\r\n\r\n";
    let mut slow = TcpStream::connect(&addr).unwrap();
    let (got, sent, closed) = trickle(&mut slow, head, Duration::from_millis(250));
    let after = closed.expect("the slow client is disconnected before its headers are done");
    assert!(sent < head.len(), "sent {sent} of {} bytes", head.len());
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "closed after {after:?}"
    );
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));

    // A body trickled after its headers: 408 after about 1 s, and the connection closes.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /hooks/anything HTTP/1.1\r\nhost: sluice.test\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n",
    )
    .unwrap();
    let (got, sent, closed) = trickle(&mut slow, &[b' '; 40], Duration::from_millis(250));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_BODY_TIMEOUT"), "{text}");
    assert!(
        sent < 40 && closed.is_some(),
        "sent {sent}, closed {closed:?}"
    );

    // A keep-alive connection: answered, then closed after about 1 s without a request.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(head).unwrap();
    let answer = read_answer(&mut idle, Duration::from_secs(5)).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let answered = Instant::now();
    let (got, closed) = read_until_closed(&mut idle, Duration::from_secs(5));
    assert!(closed, "the idle connection is closed");
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    let after = answered.elapsed();
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );

    // Requests that keep to the limits are answered, several on one connection.
    for _ in 0..3 {
        let (status, v) = anon.get("/healthz");
        assert_eq!(status, 200, "{v}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut keep = TcpStream::connect(&addr).unwrap();
    for _ in 0..3 {
        keep.write_all(head).unwrap();
        let answer = read_answer(&mut keep, Duration::from_secs(5)).expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        std::thread::sleep(Duration::from_millis(300));
    }
    server.stop();
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    use std::io::Write;
    use std::net::TcpStream;
    let s = Sluice::new();
    let server = Server::start(&s, &["--max-connections", "2"]);
    let addr = server.url.strip_prefix("http://").unwrap().to_owned();
    let request = b"GET /healthz HTTP/1.1\r\nhost: sluice.test\r\n\r\n";
    let answered = |stream: &mut TcpStream, within: Duration| {
        read_answer(stream, within).is_some_and(|a| a.starts_with("HTTP/1.1 200"))
    };
    // Two keep-alive connections, answered and left open, take both places.
    let mut first = TcpStream::connect(&addr).unwrap();
    let mut second = TcpStream::connect(&addr).unwrap();
    for c in [&mut first, &mut second] {
        c.write_all(request).unwrap();
        assert!(answered(c, Duration::from_secs(5)));
    }
    // A third connects (the backlog takes it) but is not served while they stay open...
    let mut third = TcpStream::connect(&addr).unwrap();
    third.write_all(request).unwrap();
    assert!(
        !answered(&mut third, Duration::from_millis(1500)),
        "served beyond the limit"
    );
    // ... and is as soon as one closes.
    drop(first);
    assert!(answered(&mut third, Duration::from_secs(5)));
    server.stop();
}
