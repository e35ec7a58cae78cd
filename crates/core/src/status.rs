//! A state's status under a treaty, derived from its dated treaty events and never stored.
//!
//! The campaign's usage: a state is a **State Party** from the day it deposits ratification,
//! accession or succession until a withdrawal takes effect; the treaty is **in force** for it from
//! its own entry-into-force date; it is **withdrawing** between the depositary's receipt of a
//! withdrawal notice and the day the withdrawal takes effect, and **withdrawn** (outside, and
//! counted among the states not party) after. A signatory is a state whose signature is in place
//! but which has not deposited; a withdrawn party's signature no longer counts. A suspension notice changes nothing (see data/reference/README.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::TreatyEventKind;

/// The derived status of one state under one treaty on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Deposited, no withdrawal notice pending.
    Party,
    /// Still a party, with a withdrawal notice received and not yet effective.
    Withdrawing,
    /// Signed and not (or no longer) a party.
    Signatory,
    /// Neither party nor signatory, and never a party.
    NotParty,
    /// Was a party; its withdrawal has taken effect. Counted among the states not party.
    Withdrawn,
}

impl Status {
    /// Whether the state counts among the States Parties (a withdrawing state still does).
    pub fn is_party(self) -> bool {
        matches!(self, Status::Party | Status::Withdrawing)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Party => "party",
            Status::Withdrawing => "withdrawing",
            Status::Signatory => "signatory",
            Status::NotParty => "not_party",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Words for people: "State Party", "not party".
    pub fn label(self) -> &'static str {
        match self {
            Status::Party => "State Party",
            Status::Withdrawing => "withdrawing",
            Status::Signatory => "signatory",
            Status::NotParty => "not party",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// The filter users give to `outreach states --status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// States Parties, withdrawing ones included.
    Party,
    /// Every state in the universe that is not a party, signatories included.
    NotParty,
    Signatory,
    Withdrawing,
    /// Former parties whose withdrawal has taken effect.
    Withdrawn,
    All,
}

impl StatusFilter {
    /// # Errors
    /// [`crate::Error::Invalid`] naming `--status` and the accepted values.
    pub fn parse(given: &str) -> crate::Result<Self> {
        match given.trim().to_lowercase().replace('_', "-").as_str() {
            "party" | "parties" => Ok(Self::Party),
            "not-party" | "nonparty" | "non-party" => Ok(Self::NotParty),
            "signatory" | "signatories" => Ok(Self::Signatory),
            "withdrawing" => Ok(Self::Withdrawing),
            "withdrawn" => Ok(Self::Withdrawn),
            "all" => Ok(Self::All),
            _ => Err(crate::Error::invalid(
                "--status",
                format!(
                    "'{given}' is not a status; use party, not-party, signatory, withdrawing, \
                     withdrawn or all"
                ),
            )),
        }
    }

    pub fn matches(self, status: Status) -> bool {
        match self {
            Self::Party => status.is_party(),
            Self::NotParty => !status.is_party(),
            Self::Signatory => status == Status::Signatory,
            Self::Withdrawing => status == Status::Withdrawing,
            Self::Withdrawn => status == Status::Withdrawn,
            Self::All => true,
        }
    }
}

/// The events of one state under one treaty, by kind.
#[derive(Debug, Clone, Default)]
pub struct TreatyRecord {
    events: BTreeMap<TreatyEventKind, NaiveDate>,
}

/// What a state's record says on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusAt {
    pub status: Status,
    /// Whether the treaty is in force for the state on that date.
    pub in_force: bool,
    /// The day the state became a party (deposit), when it is one.
    pub party_since: Option<NaiveDate>,
    /// The day the status itself began: the deposit for a party, the withdrawal notice for a
    /// withdrawing state, the day the withdrawal took effect for a withdrawn one, the signature
    /// for a signatory; none for a state that never acted.
    pub since: Option<NaiveDate>,
}

impl TreatyRecord {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, kind: TreatyEventKind, date: NaiveDate) {
        self.events.insert(kind, date);
    }

    pub fn date_of(&self, kind: TreatyEventKind) -> Option<NaiveDate> {
        self.events.get(&kind).copied()
    }

    /// The deposit of the instrument of consent (ratification, accession or succession).
    pub fn deposit(&self) -> Option<NaiveDate> {
        use TreatyEventKind::{Accession, Ratification, Succession};
        [Ratification, Accession, Succession]
            .iter()
            .filter_map(|k| self.date_of(*k))
            .min()
    }

    pub fn status_at(&self, on: NaiveDate) -> StatusAt {
        use TreatyEventKind::{EntryIntoForce, Signature, WithdrawalEffective, WithdrawalNotice};
        let on_or_before = |k| self.date_of(k).filter(|d| *d <= on);
        let withdrawn = on_or_before(WithdrawalEffective).is_some();
        let deposited = self.deposit().filter(|d| *d <= on);
        match deposited {
            Some(deposit) if !withdrawn => {
                let (status, since) = match on_or_before(WithdrawalNotice) {
                    Some(notice) => (Status::Withdrawing, notice),
                    None => (Status::Party, deposit),
                };
                StatusAt {
                    status,
                    in_force: on_or_before(EntryIntoForce).is_some(),
                    party_since: Some(deposit),
                    since: Some(since),
                }
            }
            _ => {
                let (status, since) = if withdrawn {
                    (Status::Withdrawn, on_or_before(WithdrawalEffective))
                } else if let Some(signed) = on_or_before(Signature) {
                    (Status::Signatory, Some(signed))
                } else {
                    (Status::NotParty, None)
                };
                StatusAt {
                    status,
                    in_force: false,
                    party_since: None,
                    since,
                }
            }
        }
    }
}

/// Whether a state is counted in the universe of states on a date.
pub fn counted_on(counted_from: Option<NaiveDate>, on: NaiveDate) -> bool {
    counted_from.is_none_or(|from| from <= on)
}

/// Whole years a state has stayed outside since the treaty opened for signature, for letters.
pub fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years.max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TreatyEventKind::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn record(events: &[(TreatyEventKind, &str)]) -> TreatyRecord {
        let mut r = TreatyRecord::new();
        for (k, date) in events {
            r.add(*k, d(date));
        }
        r
    }

    #[test]
    fn a_party_counts_from_deposit_and_is_in_force_from_its_own_date() {
        let r = record(&[
            (Signature, "1997-12-03"),
            (Ratification, "1998-07-01"),
            (EntryIntoForce, "1999-03-01"),
        ]);
        assert_eq!(r.status_at(d("1997-12-02")).status, Status::NotParty);
        assert_eq!(r.status_at(d("1997-12-03")).status, Status::Signatory);
        let at = r.status_at(d("1998-07-01"));
        assert_eq!((at.status, at.in_force), (Status::Party, false));
        assert!(r.status_at(d("1999-03-01")).in_force);
    }

    #[test]
    fn withdrawal_goes_through_withdrawing_to_withdrawn_each_with_its_own_date() {
        let r = record(&[
            (Accession, "2000-01-01"),
            (EntryIntoForce, "2000-07-01"),
            (WithdrawalNotice, "2025-06-27"),
            (WithdrawalEffective, "2025-12-27"),
        ]);
        let party = r.status_at(d("2025-06-26"));
        assert_eq!(
            (party.status, party.since),
            (Status::Party, Some(d("2000-01-01")))
        );
        let withdrawing = r.status_at(d("2025-06-27"));
        assert_eq!(
            (
                withdrawing.status,
                withdrawing.since,
                withdrawing.party_since
            ),
            (
                Status::Withdrawing,
                Some(d("2025-06-27")),
                Some(d("2000-01-01"))
            )
        );
        assert!(withdrawing.status.is_party());
        let withdrawn = r.status_at(d("2025-12-27"));
        assert_eq!(
            (withdrawn.status, withdrawn.since, withdrawn.party_since),
            (Status::Withdrawn, Some(d("2025-12-27")), None)
        );
        assert!(!withdrawn.status.is_party());
        assert!(StatusFilter::NotParty.matches(Status::Withdrawn));
        assert!(StatusFilter::Withdrawn.matches(Status::Withdrawn));
        assert!(!StatusFilter::Withdrawn.matches(Status::NotParty));
    }

    #[test]
    fn a_withdrawn_signatory_is_not_counted_as_signatory() {
        let r = record(&[
            (Signature, "1997-12-03"),
            (Ratification, "2003-05-12"),
            (WithdrawalNotice, "2025-06-27"),
            (WithdrawalEffective, "2025-12-27"),
        ]);
        assert_eq!(r.status_at(d("2026-01-01")).status, Status::Withdrawn);
        assert_ne!(r.status_at(d("2026-01-01")).status, Status::Signatory);
    }

    #[test]
    fn a_suspension_notice_changes_nothing() {
        let r = record(&[
            (Ratification, "2005-12-27"),
            (SuspensionNotice, "2025-07-18"),
        ]);
        assert_eq!(r.status_at(d("2026-01-01")).status, Status::Party);
    }

    #[test]
    fn years_outside_count_whole_years() {
        assert_eq!(years_between(d("1997-12-03"), d("2026-11-22")), 28);
        assert_eq!(years_between(d("1997-12-03"), d("2026-12-03")), 29);
    }
}
