//! A real Redis (Debian's redis-server) for tests, on a free loopback port,
//! stopped and restarted at will. A test that needs it and cannot get it fails.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    child: Option<Child>,
    pub port: u16,
}

fn redis_server() -> String {
    let path = std::env::var("HOOKGATE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
    let found = Command::new(&path)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "redis-server is required for this test and was not found ({path}). \
         Run ./scripts/test.sh, which installs Debian's redis-server."
    );
    path
}

impl Redis {
    pub fn start() -> Self {
        let mut r = Self {
            child: None,
            port: super::broker::free_port(),
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "redis already running");
        let child = Command::new(redis_server())
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--port",
            ])
            .arg(self.port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis did not listen within 10s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
