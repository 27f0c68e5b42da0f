//! MQTT topic names and filters as AWS IoT Core takes them: names without
//! wildcards, filters with `+` for one level and a trailing `#` for the rest,
//! at most 256 bytes, and `$`-topics (IoT's reserved ones) never matched by a
//! leading wildcard.

/// IoT Core's limit on a topic name or filter.
pub const MAX_TOPIC_BYTES: usize = 256;

fn sized(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_TOPIC_BYTES && !text.contains('\0')
}

/// A name a message may be published to.
pub fn valid_topic(topic: &str) -> bool {
    sized(topic) && !topic.contains(['+', '#'])
}

/// A filter a client may subscribe with.
pub fn valid_filter(filter: &str) -> bool {
    if !sized(filter) {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == levels.len() - 1,
        "+" => true,
        other => !other.contains(['+', '#']),
    })
}

/// Whether `filter` selects `topic`.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_filters() {
        assert!(valid_topic("notifications-u1"));
        assert!(!valid_topic("notifications-+") && !valid_topic("a/#") && !valid_topic(""));
        assert!(!valid_topic(&"x".repeat(MAX_TOPIC_BYTES + 1)));
        for ok in ["a", "a/+/c", "#", "a/#", "+", "notifications-u1"] {
            assert!(valid_filter(ok), "{ok}");
        }
        for bad in ["", "a/#/c", "a+", "a/b#", "notifications-#"] {
            assert!(!valid_filter(bad), "{bad}");
        }
    }

    #[test]
    fn matching() {
        assert!(matches("notifications-u1", "notifications-u1"));
        assert!(!matches("notifications-u1", "notifications-u10"));
        assert!(matches("#", "notifications-u1"));
        assert!(matches("+", "notifications-u1"));
        assert!(matches("a/+/c", "a/b/c") && !matches("a/+/c", "a/b/d") && !matches("a/+", "a/b/c"));
        assert!(matches("a/#", "a") && matches("a/#", "a/b/c") && !matches("a/#", "b"));
        assert!(!matches("#", "$aws/things/x") && matches("$aws/#", "$aws/things/x"));
    }
}
