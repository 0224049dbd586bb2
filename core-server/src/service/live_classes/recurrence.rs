//! Weekly recurrence: a rule (days of week, count or until, time zone) expanded into
//! the start instants of a series. Occurrences keep `scheduledAt`'s local time of day
//! in the rule's zone, so a 10:00 class stays at 10:00 across a DST change.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::api::WeeklyRecurrence;

/// The most occurrences one series may have.
pub const MAX_OCCURRENCES: usize = 200;

/// How a series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Count(usize),
    /// The last day (local, inclusive).
    Until(NaiveDate),
}

/// A parsed weekly rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyRule {
    /// Monday = 0 … Sunday = 6.
    days: BTreeSet<u32>,
    end: End,
    zone: Tz,
}

impl WeeklyRule {
    /// Checks the rule: at least one day, exactly one of `count` (1–200) and `until`, a
    /// known zone. Errors name the field inside `recurrence`.
    pub fn parse(raw: &WeeklyRecurrence) -> Result<Self, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        // Seven days at most, counted before they are read.
        let too_many = raw.days_of_week.len() > 7;
        let days: BTreeSet<u32> = if too_many {
            BTreeSet::new()
        } else {
            raw.days_of_week.iter().map(|d| d.index()).collect()
        };
        if too_many {
            errors.push((
                "recurrence.daysOfWeek",
                "names each day at most once (7 at most)".to_owned(),
            ));
        } else if days.is_empty() {
            errors.push((
                "recurrence.daysOfWeek",
                "must name at least one day".to_owned(),
            ));
        }
        let end = match (raw.count, raw.until) {
            (Some(n), None) if (1..=MAX_OCCURRENCES as u32).contains(&n) => {
                Some(End::Count(n as usize))
            }
            (Some(_), None) => {
                errors.push((
                    "recurrence.count",
                    format!("must be between 1 and {MAX_OCCURRENCES}"),
                ));
                None
            }
            (None, Some(until)) => Some(End::Until(until)),
            (Some(_), Some(_)) => {
                errors.push((
                    "recurrence.until",
                    "give count or until, not both".to_owned(),
                ));
                None
            }
            (None, None) => {
                errors.push(("recurrence.count", "give count or until".to_owned()));
                None
            }
        };
        let zone = match raw.time_zone.as_deref() {
            None => Some(Tz::UTC),
            Some(name) => match name.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    errors.push((
                        "recurrence.timeZone",
                        format!("`{name}` is not an IANA time zone (e.g. Asia/Kolkata)"),
                    ));
                    None
                }
            },
        };
        match (end, zone) {
            (Some(end), Some(zone)) if errors.is_empty() => Ok(Self { days, end, zone }),
            _ => Err(errors),
        }
    }

    /// The start instants: every listed weekday on or after `first`'s local date, at
    /// its local time. Errors when there are none or more than [`MAX_OCCURRENCES`].
    pub fn expand(
        &self,
        first: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, (&'static str, String)> {
        let local = first.with_timezone(&self.zone);
        let time = local.time();
        let mut day = local.date_naive();
        let mut out = Vec::new();
        loop {
            match self.end {
                End::Count(n) if out.len() >= n => break,
                End::Until(until) if day > until => break,
                _ => {}
            }
            if out.len() > MAX_OCCURRENCES {
                return Err((
                    "recurrence.until",
                    format!("gives more than {MAX_OCCURRENCES} occurrences; end the series sooner"),
                ));
            }
            if self.days.contains(&day.weekday().num_days_from_monday()) {
                out.push(self.instant(day.and_time(time)));
            }
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
        if out.len() > MAX_OCCURRENCES {
            return Err((
                "recurrence.until",
                format!("gives more than {MAX_OCCURRENCES} occurrences; end the series sooner"),
            ));
        }
        if out.is_empty() {
            return Err((
                "recurrence.until",
                "gives no occurrence on or after scheduledAt".to_owned(),
            ));
        }
        Ok(out)
    }

    /// A local time as an instant: the earlier of an ambiguous (autumn) time, and an
    /// hour later for one skipped by a spring-forward gap.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DayOfWeek;

    fn rule(
        days: &[DayOfWeek],
        count: Option<u32>,
        until: Option<NaiveDate>,
        tz: Option<&str>,
    ) -> WeeklyRule {
        WeeklyRule::parse(&WeeklyRecurrence {
            days_of_week: days.to_vec(),
            count,
            until,
            time_zone: tz.map(str::to_owned),
        })
        .unwrap()
    }

    #[test]
    fn mondays_and_wednesdays_for_four_occurrences() {
        // Monday 7 December 2026, 10:00 UTC.
        let first = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        let got = rule(&[DayOfWeek::Mon, DayOfWeek::Wed], Some(4), None, None)
            .expand(first)
            .unwrap();
        let want: Vec<_> = [(7, 10), (9, 10), (14, 10), (16, 10)]
            .iter()
            .map(|(d, h)| Utc.with_ymd_and_hms(2026, 12, *d, *h, 0, 0).unwrap())
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn until_is_inclusive_and_the_first_day_need_not_match() {
        // Sunday 6 December; the first Tuesday is the 8th.
        let first = Utc.with_ymd_and_hms(2026, 12, 6, 9, 30, 0).unwrap();
        let got = rule(
            &[DayOfWeek::Tue],
            None,
            NaiveDate::from_ymd_opt(2026, 12, 22),
            None,
        )
        .expand(first)
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], Utc.with_ymd_and_hms(2026, 12, 8, 9, 30, 0).unwrap());
        assert_eq!(
            got[2],
            Utc.with_ymd_and_hms(2026, 12, 22, 9, 30, 0).unwrap()
        );
    }

    #[test]
    fn local_time_is_kept_across_a_dst_change() {
        // 10:00 in Berlin on Monday 19 October 2026 (CEST, UTC+2); DST ends on the 25th.
        let first = Utc.with_ymd_and_hms(2026, 10, 19, 8, 0, 0).unwrap();
        let got = rule(&[DayOfWeek::Mon], Some(2), None, Some("Europe/Berlin"))
            .expand(first)
            .unwrap();
        assert_eq!(got[1], Utc.with_ymd_and_hms(2026, 10, 26, 9, 0, 0).unwrap());
    }

    #[test]
    fn rules_without_days_or_end_or_with_both_ends_are_refused() {
        let bad = |days: Vec<DayOfWeek>, count, until| {
            WeeklyRule::parse(&WeeklyRecurrence {
                days_of_week: days,
                count,
                until,
                time_zone: None,
            })
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect::<Vec<_>>()
        };
        assert_eq!(bad(vec![], Some(2), None), ["recurrence.daysOfWeek"]);
        assert_eq!(bad(vec![DayOfWeek::Mon], None, None), ["recurrence.count"]);
        assert_eq!(
            bad(vec![DayOfWeek::Mon], Some(0), None),
            ["recurrence.count"]
        );
        assert_eq!(
            bad(
                vec![DayOfWeek::Mon],
                Some(2),
                NaiveDate::from_ymd_opt(2027, 1, 1)
            ),
            ["recurrence.until"]
        );
    }

    #[test]
    fn a_series_longer_than_the_cap_is_refused() {
        let first = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        let all = [
            DayOfWeek::Mon,
            DayOfWeek::Tue,
            DayOfWeek::Wed,
            DayOfWeek::Thu,
            DayOfWeek::Fri,
            DayOfWeek::Sat,
            DayOfWeek::Sun,
        ];
        let err = rule(&all, None, NaiveDate::from_ymd_opt(2028, 1, 1), None)
            .expand(first)
            .unwrap_err();
        assert_eq!(err.0, "recurrence.until");
    }
}
