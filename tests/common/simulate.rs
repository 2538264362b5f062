//! `hwsigner simulate …` in a child process (killed when dropped), on a port the
//! system picks: the `--device` value its JSON ready line gives, and its stderr lines
//! (the simulated screen: a PIN matrix, a pairing code) on a channel.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// A simulator process.
pub struct Simulated {
    child: Child,
    /// What to pass to `--device`.
    pub device: String,
    /// The simulator's stderr, line by line.
    pub screen: Receiver<String>,
}

impl Drop for Simulated {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `BIN --json simulate VENDOR --port 0 ARGS` and waits until it serves.
pub fn simulate(bin: &str, vendor: &str, args: &[&str]) -> Simulated {
    let mut child = Command::new(bin)
        .args(["--json", "simulate", vendor, "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&ready)
        .unwrap_or_else(|e| panic!("simulate {vendor} {args:?}: {e}: {ready:?}"));
    let (tx, screen) = channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    Simulated {
        child,
        device: ready["device"].as_str().unwrap().to_string(),
        screen,
    }
}

impl Simulated {
    /// What follows `marker` in the next screen line that has it.
    pub fn shows(&self, marker: &str) -> String {
        loop {
            let line = self
                .screen
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("the simulator never shows {marker:?}"));
            if let Some((_, rest)) = line.split_once(marker) {
                return rest.to_string();
            }
        }
    }
}
