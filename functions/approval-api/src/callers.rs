//! Who may call which service route. API Gateway has already checked that the
//! caller's IAM policy allows the route; this is the function's own allow-list
//! on top (the managed policies could be attached to anyone): the on-prem
//! service's principals create and read requests, the processor's report
//! executions, nobody else does either.
//!
//! An entry is a role ARN, `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`, which admits
//! every session of the role (API Gateway names the caller by its session,
//! `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`, without the role's path),
//! or any other IAM ARN (a user, one role session), which admits exactly that
//! caller.

/// What a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST /approval-requests`, `GET /approval-requests/{request_id}`.
    Service,
    /// `POST /approval-requests/{request_id}/execution`.
    Processor,
}

impl Purpose {
    /// What the caller may not do, in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Purpose::Service => "create or read approval requests",
            Purpose::Processor => "report executions of approval requests",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Any session of this role (or the role's own ARN).
    Role { partition: String, account: String, name: String, arn: String },
    /// Exactly this caller.
    Exact(String),
}

/// The principals admitted for one purpose. Empty admits nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(Vec<Entry>);

/// The parts of an ARN: partition, service, account and resource.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service, _region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (prefix == "arn" && partition.starts_with("aws") && account_ok && !resource.is_empty())
        .then_some((partition, service, account, resource))
}

/// A role session's (partition, account, role name), from
/// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION`.
fn session_of(arn: &str) -> Option<(&str, &str, &str)> {
    let (partition, service, account, resource) = arn_parts(arn)?;
    let (name, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    (service == "sts" && !name.is_empty() && !session.is_empty()).then_some((partition, account, name))
}

impl AllowList {
    /// The entries of a configured list; the first one that is not an IAM
    /// role, user or role session ARN is the error.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let arn = item.as_ref().trim();
            let Some((partition, service, account, resource)) = arn_parts(arn) else {
                return Err(arn.to_owned());
            };
            let entry = match (service, resource.split_once('/')) {
                ("iam", Some(("role", path_and_name))) => {
                    let name = path_and_name.rsplit('/').next().unwrap_or_default();
                    if name.is_empty() {
                        return Err(arn.to_owned());
                    }
                    Entry::Role {
                        partition: partition.to_owned(),
                        account: account.to_owned(),
                        name: name.to_owned(),
                        arn: arn.to_owned(),
                    }
                }
                ("iam", Some(("user", name))) if !name.is_empty() => Entry::Exact(arn.to_owned()),
                ("sts", Some(("assumed-role", _))) if session_of(arn).is_some() => Entry::Exact(arn.to_owned()),
                _ => return Err(arn.to_owned()),
            };
            entries.push(entry);
        }
        Ok(Self(entries))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the caller API Gateway names (`userArn`) is admitted.
    pub fn allows(&self, caller: &str) -> bool {
        let session = session_of(caller);
        self.0.iter().any(|entry| match entry {
            Entry::Exact(arn) => arn == caller,
            Entry::Role { partition, account, name, arn } => {
                arn == caller || session == Some((partition.as_str(), account.as_str(), name.as_str()))
            }
        })
    }
}

/// The allow-list of each purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callers {
    pub service: AllowList,
    pub processor: AllowList,
}

impl Callers {
    pub fn may(&self, purpose: Purpose, caller: &str) -> bool {
        match purpose {
            Purpose::Service => self.service.allows(caller),
            Purpose::Processor => self.processor.allows(caller),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> AllowList {
        AllowList::parse(items).unwrap()
    }

    #[test]
    fn a_role_admits_its_sessions_whatever_the_roles_path() {
        let l = list(&["arn:aws:iam::123456789012:role/onprem/approval-service"]);
        assert!(l.allows("arn:aws:sts::123456789012:assumed-role/approval-service/host-7"));
        assert!(l.allows("arn:aws:sts::123456789012:assumed-role/approval-service/local"));
        assert!(l.allows("arn:aws:iam::123456789012:role/onprem/approval-service"));
    }

    #[test]
    fn another_role_account_partition_or_a_lookalike_is_not_admitted() {
        let l = list(&["arn:aws:iam::123456789012:role/approval-service"]);
        for caller in [
            "arn:aws:sts::123456789012:assumed-role/approval-processor/local",
            "arn:aws:sts::210987654321:assumed-role/approval-service/local",
            "arn:aws-cn:sts::123456789012:assumed-role/approval-service/local",
            "arn:aws:sts::123456789012:assumed-role/approval-service-2/local",
            "arn:aws:sts::123456789012:assumed-role/approval-service",
            "arn:aws:iam::123456789012:user/approval-service",
            "arn:aws:sts::123456789012:federated-user/approval-service",
            "approval-service",
            "",
        ] {
            assert!(!l.allows(caller), "{caller}");
        }
    }

    #[test]
    fn a_user_or_a_session_is_admitted_exactly() {
        let l = list(&[
            "arn:aws:iam::123456789012:user/ops/monitoring",
            "arn:aws:sts::123456789012:assumed-role/shared/monitoring-host",
        ]);
        assert!(l.allows("arn:aws:iam::123456789012:user/ops/monitoring"));
        assert!(!l.allows("arn:aws:iam::123456789012:user/monitoring"));
        assert!(l.allows("arn:aws:sts::123456789012:assumed-role/shared/monitoring-host"));
        assert!(!l.allows("arn:aws:sts::123456789012:assumed-role/shared/other-host"));
    }

    #[test]
    fn an_empty_list_admits_nobody() {
        let l = list(&[]);
        assert!(l.is_empty());
        assert!(!l.allows("arn:aws:sts::123456789012:assumed-role/approval-service/local"));
    }

    #[test]
    fn anything_but_an_iam_principal_arn_is_refused_by_name() {
        for bad in [
            "approval-service",
            "arn:aws:iam::123456789012:policy/ApprovalServicePolicy",
            "arn:aws:iam::1234:role/short-account",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:assumed-role/no-session",
            "arn:aws:s3:::bucket",
        ] {
            assert_eq!(AllowList::parse(&[bad]), Err(bad.to_owned()));
        }
    }

    #[test]
    fn each_purpose_has_its_own_list() {
        let callers = Callers {
            service: list(&["arn:aws:iam::123456789012:role/approval-service"]),
            processor: list(&["arn:aws:iam::123456789012:role/approval-processor"]),
        };
        let service = "arn:aws:sts::123456789012:assumed-role/approval-service/local";
        let processor = "arn:aws:sts::123456789012:assumed-role/approval-processor/local";
        assert!(callers.may(Purpose::Service, service));
        assert!(!callers.may(Purpose::Processor, service));
        assert!(callers.may(Purpose::Processor, processor));
        assert!(!callers.may(Purpose::Service, processor));
    }
}
