//! `Fn::Sub` string parsing, and the references an expression makes (the
//! edges of the provisioning order).

use std::collections::BTreeSet;

use serde_json::Value;

use super::resolve::ResolveError;

pub(crate) enum SubPiece {
    Literal(String),
    Variable(String),
}

/// Splits a `Fn::Sub` string into literals and `${...}` variables
/// (`${!Literal}` stays literal as `${Literal}`).
pub(crate) fn sub_pieces(text: &str) -> Result<Vec<SubPiece>, ResolveError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| ResolveError::BadArguments {
            function: "Fn::Sub",
            reason: format!("unterminated ${{ in {text}"),
        })?;
        let name = &after[..end];
        if let Some(escaped) = name.strip_prefix('!') {
            literal.push_str("${");
            literal.push_str(escaped);
            literal.push('}');
        } else {
            if !literal.is_empty() {
                pieces.push(SubPiece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(SubPiece::Variable(name.trim().to_owned()));
        }
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(SubPiece::Literal(literal));
    }
    Ok(pieces)
}

/// Logical ids an expression refers to (Ref, GetAtt, Sub variables): the
/// edges of the provisioning order. Names that are not resources are
/// included too; the caller keeps only resources.
pub fn referenced_names(value: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect_references(value, &mut names);
    names
}

fn collect_references(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, arg) in map {
                match (key.as_str(), arg) {
                    ("Ref", Value::String(name)) => {
                        names.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::Array(items)) => {
                        if let Some(Value::String(name)) = items.first() {
                            names.insert(name.clone());
                        }
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        let name = dotted.split('.').next().unwrap_or(dotted);
                        names.insert(name.to_owned());
                    }
                    ("Fn::Sub", arg) => {
                        let text = match arg {
                            Value::String(t) => Some(t.as_str()),
                            Value::Array(items) => items.first().and_then(Value::as_str),
                            _ => None,
                        };
                        if let Some(Ok(pieces)) = text.map(sub_pieces) {
                            for piece in pieces {
                                if let SubPiece::Variable(v) = piece {
                                    let name = v.split('.').next().unwrap_or(&v);
                                    names.insert(name.to_owned());
                                }
                            }
                        }
                    }
                    _ => {}
                }
                collect_references(arg, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, names)),
        _ => {}
    }
}
