//! What `ops` prints may be pasted into tickets: email addresses and anything
//! token-shaped are masked, whatever the message said.

/// Masks email addresses and long token-like runs (≥ 32 URL-safe characters, which
/// covers JWT segments, API keys and 256-bit hex/base64 secrets; UUIDs have dashes
/// every few characters and stay readable).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&redact_word(word));
    }
    out
}

fn redact_word(word: &str) -> String {
    if let Some(at) = word.find('@') {
        let (local, domain) = word.split_at(at);
        if !local.is_empty() && domain.len() > 1 && domain[1..].contains('.') {
            // Keep surrounding punctuation (quotes, commas) so sentences still read.
            let lead: String = local.chars().take_while(|c| !c.is_alphanumeric()).collect();
            let trail: String = domain.chars().rev().take_while(|c| !c.is_alphanumeric()).collect();
            return format!("{lead}<email>{}", trail.chars().rev().collect::<String>());
        }
    }
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 32 {
            out.push_str("<token>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in word.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '=' || c == '+' || c == '/' {
            // A dash-separated UUID never reaches 32 between separators... but JWTs
            // use dots: treat dots as part of the run.
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    // UUIDs (36 chars with dashes) would match the run rule: let them through.
    if uuid::Uuid::parse_str(word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')).is_ok() {
        return word.to_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_tokens_are_masked_and_ids_kept() {
        assert_eq!(redact("sent to \"jane.doe@example.gov.uk\", twice"), "sent to \"<email>\", twice");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(redact(&format!("token={jwt}")), "<token>");
        assert_eq!(
            redact("report 8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10 failed"),
            "report 8d0c7a4e-3b1f-4f5e-9a61-0c2b8e7d9f10 failed"
        );
        assert_eq!(redact("Zendesk answered 422 (RecordInvalid)"), "Zendesk answered 422 (RecordInvalid)");
    }
}
