//! `validate_settings` on arbitrary bytes: valid settings then work on a
//! request; invalid ones get a message that names the setting.
#![no_main]

use host_gateway_policy::{MAX_REJECTION_BYTES, Settings};
use host_gateway_test_support::{ScriptedDns, check_evaluation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Settings::from_json(data) {
        Err(e) => {
            let message = e.to_string();
            assert!(message.len() <= MAX_REJECTION_BYTES, "{message}");
            assert!(
                ["`hostnames`", "`ipFamilies`", "`fallbackAddresses`", "`injectHostnames`", "unknown setting", "settings are not valid JSON", "settings must be a JSON object"]
                    .iter()
                    .any(|part| message.contains(part)),
                "names no setting: {message}"
            );
        }
        Ok(_) => {
            let Ok(settings) = serde_json::from_slice::<serde_json::Value>(data) else {
                panic!("valid settings that are not JSON");
            };
            let request = r#"{"kind": {"group": "", "kind": "Pod"}, "operation": "CREATE", "name": "web",
                "object": {"spec": {"hostAliases": [{"ip": "host-gateway", "hostnames": ["db"]}]}}}"#;
            let payload = format!(r#"{{"settings": {settings}, "request": {request}}}"#);
            let dns = ScriptedDns::default().with("host.docker.internal", &["192.168.65.254"]);
            check_evaluation(payload.as_bytes(), &dns);
        }
    }
});
