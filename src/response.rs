//! The answers sent back over waPC, in the wire format of the SDK's
//! `ValidationResponse` and `SettingsValidationResponse`, written by hand:
//! only strings are serialised, so no JSON value serialiser (and its float
//! formatting) lands in the module. The tests decode them with the SDK's
//! own types.

use crate::messages::SettingsError;
use crate::policy::Verdict;

/// What `kubewarden_policy_sdk::accept_request` sends, as a constant: the
/// common answer costs no serialisation.
const ACCEPT: &[u8] =
    br#"{"accepted":true,"message":null,"code":null,"mutated_object":null,"audit_annotations":null,"warnings":null}"#;

/// Encodes a verdict. A mutated object is written as the text the rewrite
/// made, never parsed and re-serialised.
pub fn encode(verdict: &Verdict) -> Vec<u8> {
    match verdict {
        Verdict::Accept => ACCEPT.to_vec(),
        Verdict::Reject(rejection) => {
            let mut out = br#"{"accepted":false,"message":"#.to_vec();
            push_string(&mut out, &rejection.to_string());
            out.extend_from_slice(
                br#","code":null,"mutated_object":null,"audit_annotations":null,"warnings":null}"#,
            );
            out
        }
        Verdict::Warn(warnings) => {
            let mut out = br#"{"accepted":true,"message":null,"code":null,"mutated_object":null,"audit_annotations":null,"warnings":"#.to_vec();
            push_warnings(&mut out, warnings);
            out.push(b'}');
            out
        }
        Verdict::Mutate(mutation) => {
            let mut out = Vec::with_capacity(mutation.object.len() + 256);
            out.extend_from_slice(
                br#"{"accepted":true,"message":null,"code":null,"mutated_object":"#,
            );
            out.extend_from_slice(mutation.object.as_bytes());
            out.extend_from_slice(br#","audit_annotations":null,"warnings":"#);
            push_warnings(&mut out, &mutation.warnings);
            out.push(b'}');
            out
        }
    }
}

/// Encodes the answer to `validate_settings`.
pub fn encode_settings_validation<T>(result: &Result<T, SettingsError>) -> Vec<u8> {
    match result {
        Ok(_) => br#"{"valid":true,"message":null}"#.to_vec(),
        Err(error) => {
            let mut out = br#"{"valid":false,"message":"#.to_vec();
            push_string(&mut out, &error.to_string());
            out.push(b'}');
            out
        }
    }
}

/// Appends the warnings as a JSON list, or `null` when there are none.
fn push_warnings(out: &mut Vec<u8>, warnings: &[crate::messages::Warning]) {
    if warnings.is_empty() {
        out.extend_from_slice(b"null");
        return;
    }
    out.push(b'[');
    for (i, warning) in warnings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_string(out, &warning.to_string());
    }
    out.push(b']');
}

/// Appends `text` as a JSON string.
fn push_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(crate::json::quoted(text).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip_family::IpFamily;
    use crate::messages::{Rejection, Shortfall, Warning};
    use crate::policy::Mutation;
    use kubewarden_policy_sdk::response::ValidationResponse;
    use kubewarden_policy_sdk::settings::SettingsValidationResponse;
    use serde_json::json;

    fn decode(bytes: &[u8]) -> ValidationResponse {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn accept_matches_the_sdk() {
        let sdk = kubewarden_policy_sdk::accept_request().unwrap();
        assert_eq!(encode(&Verdict::Accept), sdk);
    }

    #[test]
    fn reject_carries_the_message_only() {
        let rejection = Rejection::UnreadableRequest("EOF".into());
        let response = decode(&encode(&Verdict::Reject(rejection.clone())));
        assert!(!response.accepted);
        assert_eq!(response.message, Some(rejection.to_string()));
        assert!(response.mutated_object.is_none());
        assert!(response.warnings.is_none());
    }

    #[test]
    fn mutation_embeds_the_object_text_verbatim() {
        let object = r#"{"spec" : {"x": 1.50, "big": 18446744073709551615}}"#;
        let verdict = Verdict::Mutate(Mutation {
            object: object.into(),
            warnings: vec![Warning::FallbackUsed {
                shortfall: Shortfall::NoAddress {
                    families: vec![IpFamily::IPv4],
                    misses: vec![],
                },
                addresses: vec!["10.0.0.1".into()],
            }],
            summary: String::new(),
        });
        let bytes = encode(&verdict);
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains(object));
        let response = decode(&bytes);
        assert!(response.accepted);
        assert_eq!(
            response.mutated_object,
            Some(json!({"spec": {"x": 1.5, "big": 18446744073709551615u64}}))
        );
        assert_eq!(response.warnings.map(|w| w.len()), Some(1));
    }

    #[test]
    fn mutation_without_warnings_sends_null() {
        let verdict = Verdict::Mutate(Mutation {
            object: "{}".into(),
            warnings: vec![],
            summary: String::new(),
        });
        assert!(decode(&encode(&verdict)).warnings.is_none());
    }

    #[test]
    fn settings_validation_answers() {
        let ok: Result<(), SettingsError> = Ok(());
        assert_eq!(
            encode_settings_validation(&ok),
            br#"{"valid":true,"message":null}"#
        );
        let err: Result<(), _> = Err(SettingsError::Empty("hostnames"));
        let answer: SettingsValidationResponse =
            serde_json::from_slice(&encode_settings_validation(&err)).unwrap();
        assert!(!answer.valid);
        assert_eq!(
            answer.message.as_deref(),
            Some("`hostnames` must not be empty")
        );
    }
}
