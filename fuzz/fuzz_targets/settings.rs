//! `validate_settings` on arbitrary bytes: valid settings then work on a
//! request; invalid ones get a message that names the setting.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| host_gateway_test_support::check_fuzz_settings(data));
