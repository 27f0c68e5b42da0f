//! query-api's outside input besides the cursor (fuzzed in `domain`): the user id
//! and report id in its paths and the activity page's query string. Refusals are
//! 400s that never quote the input; what is accepted is in range.

use activity::page::{PageQuery, MAX_LIMIT};
use activity::UserId;
use proptest::prelude::*;
use reports::request::parse_report_id;

use crate::query_strings::{query_string, read};
use crate::support::{text, EMAIL_PART};

fn value() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => text(),
        1 => prop::sample::select(vec!["1", "20", "100", "101", "0", "-1", "+5", "1e2", "4294967297"]).prop_map(str::to_owned),
        1 => ("[ -~]{0,40}", "[0-9#a-z]{1,30}").prop_map(|(e, t)| activity::cursor::Cursor { sk: format!("EVENT#{e}"), activity_time: t }.encode()),
    ]
}

proptest! {
    #[test]
    fn any_activity_page_query_is_read_or_refused_with_a_400(query in query_string(&["limit", "next"], value())) {
        let Some(q) = read::<PageQuery>("/users/u1/activity", &query)? else {
            return Ok(());
        };
        match q.parse() {
            Ok(page) => prop_assert!((1..=MAX_LIMIT).contains(&page.limit)),
            Err(e) => prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e),
        }
    }

    #[test]
    fn any_user_or_report_id_in_a_path_is_read_or_refused(raw in text()) {
        if let Err(e) = UserId::parse(&raw) {
            prop_assert!(!e.to_string().contains(EMAIL_PART), "{}", e);
        }
        if let Ok(id) = parse_report_id(&raw) {
            prop_assert_eq!(parse_report_id(&id.to_string()), Ok(id));
        }
    }
}
