//! The activity API's paging parameters (`limit`, `next`), parsed: a refusal says
//! which one is wrong, never what was sent.

use serde::Deserialize;

use crate::cursor::{BadCursor, Cursor};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// The query string as received (absent and empty are the same).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub next: Option<String>,
}

/// One page's request: how many items, after which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPage {
    #[error("limit must be a whole number from 1 to {MAX_LIMIT}")]
    Limit,
    #[error(transparent)]
    Cursor(#[from] BadCursor),
}

impl PageQuery {
    /// Absent or empty values take the defaults (the first page of 20).
    pub fn parse(&self) -> Result<PageRequest, InvalidPage> {
        PageRequest::parse(self.limit.as_deref(), self.next.as_deref())
    }
}

impl PageRequest {
    pub fn parse(limit: Option<&str>, next: Option<&str>) -> Result<Self, InvalidPage> {
        let limit = match limit.filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(raw) => raw.parse::<u32>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or(InvalidPage::Limit)?,
        };
        let after = next.filter(|s| !s.is_empty()).map(Cursor::decode).transpose()?;
        Ok(Self { limit, after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bounds_and_cursors() {
        assert_eq!(PageRequest::parse(None, Some("")), Ok(PageRequest { limit: DEFAULT_LIMIT, after: None }));
        assert_eq!(PageRequest::parse(Some("100"), None).map(|p| p.limit), Ok(100));
        for bad in ["0", "101", "-1", "1.5", " 5"] {
            assert_eq!(PageRequest::parse(Some(bad), None), Err(InvalidPage::Limit), "{bad}");
        }
        assert_eq!(PageRequest::parse(None, Some("!!")), Err(InvalidPage::Cursor(BadCursor)));
        let c = Cursor { sk: "EVENT#e1".into(), activity_time: "t".into() };
        assert_eq!(PageRequest::parse(None, Some(&c.encode())).unwrap().after, Some(c));
    }
}
