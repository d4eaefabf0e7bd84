//! `hookgate serve` as a real process on a free loopback port, for tests that need
//! the binary itself: signals, sockets, log output.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_hookgate");

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub config: std::path::PathBuf,
    logs: std::sync::mpsc::Receiver<String>,
    /// Every line logged so far (stderr), in order.
    all_logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Writes `config_text` into `dir` with `127.0.0.1:8080` replaced by a free port,
    /// starts `hookgate serve --log-format <log_format>` on it and waits until it
    /// listens.
    pub fn start(dir: &Path, config_text: &str, log_format: &str) -> Self {
        let port = super::broker::free_port();
        let text = config_text.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
        let config = dir.join("hookgate.toml");
        std::fs::write(&config, text).expect("write config");
        let mut child = Command::new(BIN)
            .args(["serve", "--log-format", log_format, "--config"])
            .arg(&config)
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, logs) = std::sync::mpsc::channel();
        let all_logs = Arc::new(Mutex::new(Vec::new()));
        let keep = all_logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[hookgate] {line}");
                keep.lock().expect("logs").push(line.clone());
                let _ = tx.send(line);
            }
        });
        let server = Self {
            child,
            port,
            config,
            logs,
            all_logs,
        };
        server.wait_log("hookgate listening", Duration::from_secs(20));
        server
    }

    /// Waits for a log line containing `needle` and returns it.
    pub fn wait_log(&self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.logs.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {needle:?} within {within:?}"),
            }
        }
    }

    /// Every line logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.all_logs.lock().expect("logs").clone()
    }

    /// Waits until the lines logged so far satisfy `done` (the server logs from its
    /// own tasks, after it answered), and returns them all.
    pub fn wait_logs(
        &self,
        within: Duration,
        what: &str,
        done: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        super::wait_for(within, what, || {
            let logs = self.logs();
            done(&logs).then_some(logs)
        })
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    pub fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 exchange on a fresh connection (`connection: close`): the
/// response as text.
pub fn raw_request(port: u16, request: &[u8]) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(request).expect("write");
    read_response(&mut s)
}

/// As [`raw_request`], from the local address `from` (Linux routes all of
/// 127.0.0.0/8 to the loopback interface, so `127.0.0.2` is a second client).
pub fn raw_request_from(from: std::net::IpAddr, port: u16, request: &[u8]) -> String {
    use std::io::Write;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stream = rt
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(std::net::SocketAddr::new(from, 0))?;
            socket
                .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
                .await
        })
        .expect("connect");
    let mut s = stream.into_std().expect("std stream");
    s.set_nonblocking(false).expect("blocking");
    s.write_all(request).expect("write");
    read_response(&mut s)
}

/// The inspector's token in the tests that sign in to it.
pub const ADMIN_TOKEN: &str = "inspector-token-0123456789abcdef";

/// The `[server]` table on the port [`Server::start`] replaces, and an `[admin]`
/// table on `admin_port` with [`ADMIN_TOKEN`]; further `[admin]` keys may follow.
pub fn server_with_admin(admin_port: u16) -> String {
    format!(
        "\n[server]\nlisten = \"127.0.0.1:8080\"\n\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\ntoken = \"{ADMIN_TOKEN}\"\n"
    )
}

/// `POST /login` with `token` to the admin listener on `port`, from the local
/// address `from` (127.0.0.1 when `None`): the raw response.
pub fn admin_login(from: Option<std::net::IpAddr>, port: u16, token: &str) -> String {
    let form = format!("token={token}");
    let request = format!(
        "POST /login HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{form}",
        form.len()
    );
    match from {
        Some(from) => raw_request_from(from, port, request.as_bytes()),
        None => raw_request(port, request.as_bytes()),
    }
}

/// The session cookie (`name=value`) a successful sign-in set.
pub fn session_cookie(response: &str) -> String {
    let line = response
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie set: {response}"));
    let value = line.split_once(':').expect("a header line").1.trim();
    value.split(';').next().unwrap_or_default().to_owned()
}

/// Everything the server sends until it closes the connection, as text.
pub fn read_response(stream: &mut std::net::TcpStream) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// POSTs one generated delivery; the status and the JSON answer.
pub fn post_delivery(port: u16, d: &hookgate::loadgen::Delivery) -> (u16, serde_json::Value) {
    let mut req = format!(
        "POST {} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n",
        d.path,
        d.body.len()
    )
    .into_bytes();
    for (k, v) in &d.headers {
        req.extend_from_slice(k.as_str().as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(v.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(&d.body);
    let response = raw_request(port, &req);
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// GET `path`: the status and the body as text.
pub fn get(port: u16, path: &str) -> (u16, String) {
    let response = raw_request(
        port,
        format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
    );
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}
