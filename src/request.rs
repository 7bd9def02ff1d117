//! Reading the `validate` payload: the raw settings and the parts of the
//! AdmissionRequest the policy reads, borrowed from the payload, in one
//! serde_json pass.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::error::Category;
use serde_json::value::RawValue;

use crate::json;
use crate::text::excerpt;

/// Why a `validate` payload, JSON itself, is not a request the policy can
/// read. The API server never sends one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The payload is not an object.
    #[error("the payload is not a JSON object")]
    NotAnObject,
    /// A field that must be there is not.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field that must be an object is something else.
    #[error("`{0}` is not an object")]
    FieldNotAnObject(&'static str),
    /// A field that must be a string is something else.
    #[error("`{0}` is not a string")]
    NotAString(&'static str),
    /// JSON that serde_json refuses to read as the payload (a repeated
    /// field, say), in its words.
    #[error("{0}")]
    Unreadable(String),
}

impl PayloadError {
    fn unreadable(error: serde_json::Error) -> Self {
        PayloadError::Unreadable(excerpt(&error.to_string()))
    }
}

/// The `validate` payload, read with serde_json in one pass: the settings
/// and the object as raw text, borrowed; the request fields the policy
/// reads as raw text too, their types checked below in the policy's words.
#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, default)]
    settings: Option<&'a RawValue>,
    #[serde(borrow, default)]
    request: Option<RequestFields<'a>>,
}

/// The AdmissionRequest fields the policy reads.
#[derive(Deserialize)]
struct RequestFields<'a> {
    #[serde(borrow, default)]
    kind: Option<KindFields<'a>>,
    #[serde(borrow, default)]
    operation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    namespace: Option<&'a RawValue>,
    #[serde(borrow, default)]
    object: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "oldObject")]
    old_object: Option<&'a RawValue>,
}

/// The `group` and `kind` of `request.kind`.
#[derive(Deserialize)]
struct KindFields<'a> {
    #[serde(borrow, default)]
    group: Option<&'a RawValue>,
    #[serde(borrow, default)]
    kind: Option<&'a RawValue>,
}

/// The parts of an AdmissionRequest the policy reads, borrowed from the
/// payload. Absent fields read as empty, as Kubernetes leaves them out.
pub struct Request<'a> {
    /// `request.kind.group`.
    pub group: Cow<'a, str>,
    /// `request.kind.kind`.
    pub kind: Cow<'a, str>,
    /// `request.operation`.
    pub operation: Cow<'a, str>,
    /// `request.name`.
    pub name: Cow<'a, str>,
    /// `request.namespace`.
    pub namespace: Cow<'a, str>,
    /// `request.object`, as raw text.
    pub object: Option<&'a str>,
    /// `request.oldObject`, the stored object of an UPDATE, as raw text.
    pub old_object: Option<&'a str>,
}

/// Reads the `validate` payload: the raw settings (absent or `null` for
/// none) and the request.
pub fn read_payload(text: &str) -> Result<(Option<&str>, Request<'_>), PayloadError> {
    let payload: Payload = serde_json::from_str(text).map_err(|e| diagnose(text, e))?;
    let fields = payload.request.ok_or(PayloadError::Missing("request"))?;
    let kind = fields.kind.unwrap_or(KindFields {
        group: None,
        kind: None,
    });
    let request = Request {
        group: text_of(kind.group, "request.kind.group")?,
        kind: text_of(kind.kind, "request.kind.kind")?,
        operation: text_of(fields.operation, "request.operation")?,
        name: text_of(fields.name, "request.name")?,
        namespace: text_of(fields.namespace, "request.namespace")?,
        object: fields.object.map(RawValue::get),
        old_object: fields.old_object.map(RawValue::get),
    };
    Ok((payload.settings.map(RawValue::get), request))
}

/// The string a request field holds; empty when the field is absent.
fn text_of<'a>(
    raw: Option<&'a RawValue>,
    field: &'static str,
) -> Result<Cow<'a, str>, PayloadError> {
    match raw {
        None => Ok(Cow::Borrowed("")),
        Some(raw) => json::string(raw.get()).ok_or(PayloadError::NotAString(field)),
    }
}

/// Why serde_json refused the payload, said as the policy says it where a
/// field has the wrong shape (the error path only, so the common path reads
/// the payload once).
fn diagnose(text: &str, error: serde_json::Error) -> PayloadError {
    if error.classify() != Category::Data {
        return PayloadError::unreadable(error);
    }
    let shape = |raw: Option<&str>, field| match raw {
        Some(raw) if !raw.starts_with('{') && raw != "null" => {
            Err(PayloadError::FieldNotAnObject(field))
        }
        _ => Ok(()),
    };
    let check = || {
        if json::members(text).is_none() {
            return Err(PayloadError::NotAnObject);
        }
        let request = json::field(text, "request");
        shape(request, "request")?;
        shape(request.and_then(|r| json::field(r, "kind")), "request.kind")?;
        Ok(())
    };
    check()
        .err()
        .unwrap_or_else(|| PayloadError::unreadable(error))
}
