//! `validate` on arbitrary payload bytes, checked against the reference
//! model. The first two bytes script the DNS answers; the rest is the payload.
#![no_main]

use host_gateway_test_support::{Answer, ScriptedDns, check_evaluation};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["host.docker.internal", "host.k3d.internal", "gateway.local"];
const ANSWERS: [&[&str]; 4] = [
    &["fdc4:f303:9324::254", "192.168.65.254"],
    &["172.19.0.1"],
    &["fd00::1", "bogus"],
    &[],
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (script, payload) = data.split_at(2);
    let script = u16::from_le_bytes([script[0], script[1]]);
    // Three bits a name: one of the answers, or an error.
    let answers = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let answer = match usize::from((script >> (3 * i)) & 7) {
                n if n < ANSWERS.len() => Answer::Ips(ANSWERS[n].iter().map(|s| s.to_string()).collect()),
                7 => Answer::NotGranted,
                _ => Answer::Error("Name does not resolve".to_string()),
            };
            (name.to_string(), answer)
        })
        .collect();
    check_evaluation(payload, &ScriptedDns { answers, asked: Vec::new() });
});
