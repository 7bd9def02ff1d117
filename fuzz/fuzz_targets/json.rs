//! The policy's JSON reader on arbitrary text: it accepts what serde_json
//! accepts, words a fault as serde_json does, and reads what serde_json reads.
#![no_main]

use host_gateway_policy::testing::check_json_reading;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_json_reading(text);
    }
});
