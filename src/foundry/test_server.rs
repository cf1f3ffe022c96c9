//! A scripted HTTP/1.1 server on 127.0.0.1 for the narrow transport cases (Retry-After timing,
//! retry counts, dropped connections, lost answers) that the emulator's random faults cannot
//! pin exactly. Each request takes the next scripted action; when the script is empty, the
//! fallback answers. Every connection is closed after one exchange, so each attempt is visible.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub enum Action {
    /// Answer with this status, extra headers and JSON body.
    Reply(u16, Vec<(&'static str, String)>, String),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Wait, then answer 200 with the body.
    Slow(Duration, String),
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub struct Server {
    pub url: String,
    script: Arc<Mutex<VecDeque<Action>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl Server {
    pub async fn start(script: Vec<Action>, fallback: Action) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/projects/p", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new((0, 0)));
        let (s, v, f) = (script.clone(), seen.clone(), in_flight.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (s, v, f, fallback) = (s.clone(), v.clone(), f.clone(), fallback.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut sock).await else {
                        return;
                    };
                    v.lock().unwrap().push(request);
                    let action = s.lock().unwrap().pop_front().unwrap_or(fallback);
                    {
                        let mut g = f.lock().unwrap();
                        g.0 += 1;
                        g.1 = g.1.max(g.0);
                    }
                    let reply = match action {
                        Action::Drop => None,
                        Action::Reply(status, headers, body) => Some((status, headers, body)),
                        Action::Slow(delay, body) => {
                            tokio::time::sleep(delay).await;
                            Some((200, Vec::new(), body))
                        }
                    };
                    f.lock().unwrap().0 -= 1;
                    if let Some((status, headers, body)) = reply {
                        let mut text = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            text.push_str(&format!("{k}: {v}\r\n"));
                        }
                        text.push_str("\r\n");
                        text.push_str(&body);
                        let _ = sock.write_all(text.as_bytes()).await;
                    }
                    let _ = sock.shutdown().await;
                });
            }
        });
        Server {
            url,
            script,
            seen,
            in_flight,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    pub fn push(&self, action: Action) {
        self.script.lock().unwrap().push_back(action);
    }
}

pub fn ok(body: &str) -> Action {
    Action::Reply(200, Vec::new(), body.to_owned())
}

pub fn status(code: u16) -> Action {
    Action::Reply(
        code,
        Vec::new(),
        r#"{"error":{"code":"x","message":"injected"}}"#.to_owned(),
    )
}

async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    Some(Seen {
        at: Instant::now(),
        method,
        path,
        headers,
        body,
    })
}
