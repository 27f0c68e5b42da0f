//! contacts-api's outside input: the contact id in `GET /contacts/{id}` and the
//! listing's query string. Every refusal is a 400 naming the parameter, never
//! quoting what was sent; what is accepted is in range.

use base64::Engine as _;
use chrono::Duration;
use contacts::query::{ListQuery, MAX_LIMIT};
use contacts::ContactId;
use proptest::prelude::*;

use crate::query_strings::{query_string, read};
use crate::support::{now, text, EMAIL_PART};

/// A cursor's text: base64url of a JSON map, as the API hands them out, with any keys and values.
fn cursor() -> impl Strategy<Value = String> + Clone {
    let key = prop_oneof![
        prop::sample::select(vec!["contact_id", "sweep_state", "recording_state", "recording_checked_at"])
            .prop_map(str::to_owned),
        text(),
    ];
    prop::collection::btree_map(key, text(), 0..5)
        .prop_map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&m).unwrap()))
}

fn value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => text(),
        1 => prop::sample::select(vec!["CALL_RECORDED_SUCCESS", "CALL_RECORDED_FAILURE", "1", "100", "101", "0", "-1", "4294967296"]).prop_map(str::to_owned),
        1 => (-400_000i64..400_000, -1439i32..1440).prop_map(|(h, off)| {
            let offset = chrono::FixedOffset::east_opt(off * 60).unwrap();
            (now() + Duration::hours(h)).with_timezone(&offset).to_rfc3339()
        }),
        1 => cursor(),
    ]
}

proptest! {
    #[test]
    fn any_listing_query_is_read_or_refused_with_a_400(
        query in query_string(&["recording_state", "from", "to", "limit", "next"], value()),
    ) {
        let Some(q) = read::<ListQuery>("/contacts", &query)? else {
            return Ok(());
        };
        match q.parse(now()) {
            Ok(listing) => {
                prop_assert!(listing.from <= listing.to);
                prop_assert!((1..=MAX_LIMIT).contains(&listing.limit));
            }
            Err(e) => prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e),
        }
    }

    #[test]
    fn any_contact_id_in_a_path_is_read_or_refused(raw in prop_oneof![
        text(),
        Just("1C0FFEE0-0003-4003-8003-000000000001".to_owned()),
        Just("urn:uuid:1c0ffee0-0003-4003-8003-000000000001".to_owned()),
    ]) {
        match ContactId::parse(&raw) {
            // One canonical form, whatever form was sent.
            Ok(id) => prop_assert_eq!(ContactId::parse(id.as_str()), Ok(id.clone())),
            Err(e) => prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e),
        }
    }
}
