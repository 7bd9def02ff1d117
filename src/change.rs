//! Whether an UPDATE changes a pod template beyond what the policy itself
//! writes there (`hostAliases` and the intent annotation). A controller
//! rolls its Pods out when their template changes; when it does not, the
//! policy must not change it either.
//!
//! Each template is read once into a fingerprint: a hash of its value in
//! which an object's members count in any order, as they do for the API
//! server. Comparing two `serde_json::Value`s would say the same, at four
//! times the code in the module, which has a size budget.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::intent::HOSTNAMES_ANNOTATION;
use crate::json::{self, Key};

/// Where the policy writes in a pod template: these count as absent, and
/// an object left empty by leaving them out counts as absent too (the API
/// server leaves empty maps out).
const WRITTEN_BY_THE_POLICY: &[&[&str]] = &[
    &["spec", "hostAliases"],
    &["metadata", "annotations", HOSTNAMES_ANNOTATION],
];

/// Whether the pod template holding the pod spec at `pod_spec_path`
/// differs between `object` and `old`, leaving out what the policy writes.
/// A template that cannot be read counts as changed.
pub fn template_changed(object: &str, old: &str, pod_spec_path: &[&str]) -> bool {
    let template_path = &pod_spec_path[..pod_spec_path.len().saturating_sub(1)];
    let fingerprint = |text: &str| match json::path(text, template_path) {
        Some(template) => {
            let mut deserializer = serde_json::Deserializer::from_str(template);
            Fingerprint::TEMPLATE.deserialize(&mut deserializer).ok()
        }
        // No template in either counts as the same.
        None => Some(None),
    };
    match (fingerprint(object), fingerprint(old)) {
        (Some(new), Some(old)) => new != old,
        _ => true,
    }
}

/// The fingerprint of a value, leaving out the members at the paths it
/// holds; `None` for an object left empty by leaving members out.
#[derive(Clone, Copy)]
struct Fingerprint {
    /// How deep in the template the value is.
    depth: usize,
    /// Which paths of [`WRITTEN_BY_THE_POLICY`] lead through the value.
    live: u8,
}

impl Fingerprint {
    /// The template's, with every path of [`WRITTEN_BY_THE_POLICY`] live.
    const TEMPLATE: Self = Fingerprint {
        depth: 0,
        live: u8::MAX,
    };

    /// FNV-1a over a tag and the bytes: a fingerprint tells a change
    /// from none, and needs no defence against collisions made on purpose
    /// (whoever could make one could as well change the template).
    fn of(tag: u8, bytes: &[u8]) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        for byte in std::iter::once(&tag).chain(bytes) {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }

    /// Two fingerprints as one (splitmix64's finalizer over the pair).
    fn pair(first: u64, second: u64) -> u64 {
        let mut z = first.rotate_left(23) ^ second.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The fingerprint of the member `key`: `None` when the member is
    /// left out.
    fn under(self, key: &str) -> Option<Self> {
        let mut live = 0;
        for (i, path) in WRITTEN_BY_THE_POLICY.iter().enumerate() {
            if self.live & (1 << i) != 0 && path.get(self.depth) == Some(&key) {
                if path.len() == self.depth + 1 {
                    return None;
                }
                live |= 1 << i;
            }
        }
        Some(Fingerprint {
            depth: self.depth + 1,
            live,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Fingerprint {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Fingerprint {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    /// The members' fingerprints summed: their order does not count.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut sum, mut counted, mut left_out) = (0u64, 0u64, false);
        while let Some(Key(key)) = map.next_key()? {
            let value = match self.under(&key) {
                Some(inner) => map.next_value_seed(inner)?,
                None => map.next_value::<IgnoredAny>().map(|_| None)?,
            };
            match value {
                Some(value) => {
                    sum = sum.wrapping_add(Self::pair(Self::of(b'k', key.as_bytes()), value));
                    counted += 1;
                }
                None => left_out = true,
            }
        }
        Ok((counted > 0 || !left_out).then(|| Self::pair(sum, counted)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fingerprint = Self::of(b'[', &[]);
        while let Some(element) = seq.next_element_seed(Fingerprint { depth: 0, live: 0 })? {
            fingerprint = Self::pair(fingerprint, element.unwrap_or_default());
        }
        Ok(Some(fingerprint))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(Self::of(b's', value.as_bytes())))
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Some(Self::of(b'b', &[u8::from(value)])))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(Self::of(b'u', &value.to_le_bytes())))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Some(Self::of(b'i', &value.to_le_bytes())))
    }

    /// `-0.0` and `0.0` are one number, as for `serde_json::Value`.
    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        let value = if value == 0.0 { 0.0 } else { value };
        Ok(Some(Self::of(b'f', &value.to_bits().to_le_bytes())))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Self::of(b'n', &[])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const WORKLOAD: &[&str] = &["spec", "template", "spec"];
    const STORED: &str = r#"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[],"x":1}}"#;

    fn deployment(template: &str) -> String {
        format!(
            r#"{{"metadata":{{"labels":{{"a":"1"}}}},"spec":{{"replicas":1,"template":{template}}}}}"#
        )
    }

    #[rstest]
    #[case::same(STORED)]
    #[case::members_in_another_order(
        r#"{"spec":{"x":1,"containers":[]},"metadata":{"labels":{"app":"web"}}}"#
    )]
    #[case::whitespace(r#"{ "metadata" : { "labels" : { "app" : "web" } }, "spec" : { "containers" : [ ], "x" : 1 } }"#)]
    #[case::other_host_aliases(r#"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[],"x":1,"hostAliases":[{"ip":"host-gateway"}]}}"#)]
    #[case::the_annotation_added(r#"{"metadata":{"labels":{"app":"web"},"annotations":{"host-gateway.kubewarden.io/hostnames":"db"}},"spec":{"containers":[],"x":1}}"#)]
    #[case::an_escaped_key(
        r#"{"metadata":{"labels":{"\u0061pp":"web"}},"spec":{"containers":[],"x":1}}"#
    )]
    fn a_template_kept(#[case] template: &str) {
        assert!(!template_changed(
            &deployment(template),
            &deployment(STORED),
            WORKLOAD
        ));
    }

    #[rstest]
    #[case::a_label(
        r#"{"metadata":{"labels":{"app":"web","b":"2"}},"spec":{"containers":[],"x":1}}"#
    )]
    #[case::restarted_at(r#"{"metadata":{"labels":{"app":"web"},"annotations":{"kubectl.kubernetes.io/restartedAt":"now"}},"spec":{"containers":[],"x":1}}"#)]
    #[case::an_empty_annotations_map(
        r#"{"metadata":{"labels":{"app":"web"},"annotations":{}},"spec":{"containers":[],"x":1}}"#
    )]
    #[case::an_image(
        r#"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx"}],"x":1}}"#
    )]
    #[case::a_float_for_an_integer(
        r#"{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[],"x":1.0}}"#
    )]
    #[case::no_template("null")]
    fn a_template_changed(#[case] template: &str) {
        assert!(template_changed(
            &deployment(template),
            &deployment(STORED),
            WORKLOAD
        ));
    }

    /// The API server leaves an empty map out: an annotations map that
    /// held only the intent is the same as none.
    #[test]
    fn a_map_emptied_by_leaving_the_intent_out_counts_as_absent() {
        let with = deployment(
            r#"{"metadata":{"labels":{"app":"web"},"annotations":{"host-gateway.kubewarden.io/hostnames":"db"}},"spec":{"containers":[],"x":1}}"#,
        );
        assert!(!template_changed(&with, &deployment(STORED), WORKLOAD));
    }

    #[test]
    fn no_template_in_either_is_the_same() {
        let bare = r#"{"spec":{"replicas":1}}"#;
        assert!(!template_changed(bare, bare, WORKLOAD));
        assert!(template_changed(bare, &deployment(STORED), WORKLOAD));
    }

    #[test]
    fn the_cron_job_template_is_the_one_under_the_job_template() {
        const CRON_JOB: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];
        let cron_job = |schedule: &str, label: &str| {
            format!(
                r#"{{"spec":{{"schedule":"{schedule}","jobTemplate":{{"spec":{{"template":{{"metadata":{{"labels":{{"l":"{label}"}}}}}}}}}}}}}}"#
            )
        };
        assert!(!template_changed(
            &cron_job("* * * * *", "a"),
            &cron_job("0 * * * *", "a"),
            CRON_JOB
        ));
        assert!(template_changed(
            &cron_job("* * * * *", "a"),
            &cron_job("* * * * *", "b"),
            CRON_JOB
        ));
    }
}
