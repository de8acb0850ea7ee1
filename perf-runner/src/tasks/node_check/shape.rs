//! Whether a JSON answer has the fields the contract names, with their types.

use serde_json::Value;

/// A field's JSON type.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// A non-negative integer.
    Uint,
    /// A string.
    Str,
    /// An array.
    Array,
}

impl Kind {
    fn fits(self, v: &Value) -> bool {
        match self {
            Kind::Uint => v.as_u64().is_some(),
            Kind::Str => v.is_string(),
            Kind::Array => v.is_array(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Uint => "a non-negative integer",
            Kind::Str => "a string",
            Kind::Array => "an array",
        }
    }
}

/// One complaint per field of `fields` that `value` lacks or has with another type.
pub(super) fn wrong_fields(value: &Value, fields: &[(&str, Kind)]) -> Vec<String> {
    if !value.is_object() {
        return vec![format!("the answer is not a JSON object: {}", short(value))];
    }
    fields
        .iter()
        .filter_map(|(name, kind)| match value.get(name) {
            None => Some(format!("no \"{name}\"")),
            Some(v) if !kind.fits(v) => {
                Some(format!("\"{name}\" is {}, not {}", short(v), kind.name()))
            }
            Some(_) => None,
        })
        .collect()
}

/// A JSON value cut to a length that fits in a table row.
pub(super) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

/// `Passed` without complaints, else one failure listing them.
pub(super) fn verdict(wrong: Vec<String>) -> crate::data::node_check::Status {
    use crate::data::node_check::Status;
    if wrong.is_empty() {
        Status::Passed
    } else {
        Status::Failed(wrong.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_or_mistyped_field_is_named() {
        let v = serde_json::json!({"seq": -1, "id": "x", "list": []});
        let wrong = wrong_fields(
            &v,
            &[
                ("id", Kind::Str),
                ("seq", Kind::Uint),
                ("list", Kind::Array),
                ("sent_ns", Kind::Uint),
            ],
        );
        assert_eq!(
            wrong,
            [
                "\"seq\" is -1, not a non-negative integer",
                "no \"sent_ns\""
            ]
        );
        assert!(
            wrong_fields(&serde_json::json!([1]), &[("id", Kind::Str)])[0]
                .contains("not a JSON object")
        );
    }
}
