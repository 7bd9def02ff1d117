//! `validate` on arbitrary payload bytes, checked against the reference
//! model. The first two bytes script the DNS answers; the rest is the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| host_gateway_test_support::check_fuzz_validate(data));
