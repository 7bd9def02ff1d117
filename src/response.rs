//! The answers sent back over waPC. `validate` answers in the wire format
//! of the SDK's `ValidationResponse`, with the mutated object as raw JSON
//! text, as the rewrite made it. The SDK's type holds the object as a
//! `serde_json::Value`, and the round trip through `Value` would rewrite
//! what the policy must leave alone: `1.50` becomes `1.5`, and a float may
//! come back a different number than policy-server reads, so its diff
//! would patch it. (Its `Value` and map code would also take the module
//! over its size budget.) `validate_settings` answers with the SDK's type.

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::settings::SettingsError;
use crate::verdict::{Verdict, Warning};

/// The SDK's `ValidationResponse` as policy-server reads it, with the
/// mutated object carried as raw JSON.
#[derive(Serialize)]
struct ValidationResponse {
    accepted: bool,
    message: Option<String>,
    code: Option<u16>,
    mutated_object: Option<Box<RawValue>>,
    audit_annotations: Option<()>,
    warnings: Option<Vec<String>>,
}

/// Encodes a verdict.
pub fn encode(verdict: Verdict) -> Vec<u8> {
    let mut response = ValidationResponse {
        accepted: true,
        message: None,
        code: None,
        mutated_object: None,
        audit_annotations: None,
        warnings: None,
    };
    match verdict {
        Verdict::Accept => {}
        Verdict::Reject(rejection) => {
            response.accepted = false;
            response.code = rejection.code();
            response.message = Some(rejection.to_string());
        }
        Verdict::Warn(warnings) => response.warnings = texts(warnings),
        Verdict::Mutate(mutation) => {
            // JSON text made of the request's own text and serde_json's:
            // it always reads as JSON.
            response.mutated_object = RawValue::from_string(mutation.object).ok();
            response.warnings = texts(mutation.warnings);
        }
    }
    // Serialising strings, booleans and raw JSON cannot fail.
    serde_json::to_vec(&response).unwrap_or_default()
}

/// The warnings as kubectl prints them; none as `null`.
fn texts(warnings: Vec<Warning>) -> Option<Vec<String>> {
    (!warnings.is_empty()).then(|| warnings.iter().map(ToString::to_string).collect())
}

/// Encodes the answer to `validate_settings`: valid without an error.
pub fn encode_settings_validation(error: Option<SettingsError>) -> Vec<u8> {
    serde_json::to_vec(&SettingsValidationResponse {
        valid: error.is_none(),
        message: error.map(|e| e.to_string()),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip_family::IpFamily;
    use crate::lookup::Shortfall;
    use crate::verdict::{Mutation, Rejection};
    use serde_json::json;

    /// Read back as the SDK's own type, as policy-server reads it.
    fn decode(bytes: &[u8]) -> kubewarden_policy_sdk::response::ValidationResponse {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn accept_matches_the_sdk() {
        let sdk = kubewarden_policy_sdk::accept_request().unwrap();
        assert_eq!(encode(Verdict::Accept), sdk);
    }

    #[test]
    fn reject_matches_the_sdk() {
        let rejection = Rejection::UnreadableRequest("EOF".into());
        let sdk =
            kubewarden_policy_sdk::reject_request(Some(rejection.to_string()), None, None, None);
        assert_eq!(encode(Verdict::Reject(rejection)), sdk.unwrap());
    }

    #[test]
    fn a_check_that_could_not_be_made_carries_code_500() {
        let rejection = Rejection::CannotCheck(Shortfall::NotGranted);
        let sdk = kubewarden_policy_sdk::reject_request(
            Some(rejection.to_string()),
            Some(500),
            None,
            None,
        );
        assert_eq!(encode(Verdict::Reject(rejection)), sdk.unwrap());
    }

    #[test]
    fn reject_carries_the_message_only() {
        let rejection = Rejection::UnreadableRequest("EOF".into());
        let response = decode(&encode(Verdict::Reject(rejection.clone())));
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
        let bytes = encode(verdict);
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
        assert!(decode(&encode(verdict)).warnings.is_none());
    }

    #[test]
    fn settings_validation_answers() {
        assert_eq!(
            encode_settings_validation(None),
            br#"{"valid":true,"message":null}"#
        );
        let answer: SettingsValidationResponse = serde_json::from_slice(
            &encode_settings_validation(Some(SettingsError::Empty("hostnames"))),
        )
        .unwrap();
        assert!(!answer.valid);
        assert_eq!(
            answer.message.as_deref(),
            Some("`hostnames` must not be empty")
        );
    }
}
