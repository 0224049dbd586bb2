//! One date-time format for the CLI and the TUI: what people type and read is
//! `2026-12-07 10:30` in their time zone (`--tz`, else `EDUPRO_TZ`, else the system's);
//! RFC 3339 with an offset (`2026-12-07T10:30:00+05:30`) is accepted too, for scripts.
//! The wire and `--json` stay RFC 3339 in UTC.

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The format people type and read.
pub const FORMAT: &str = "%Y-%m-%d %H:%M";

/// The time zone dates are typed and shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Self = Self(Tz::UTC);

    /// The system's time zone (`TZ`, else `/etc/localtime`), or UTC when it cannot be
    /// told.
    pub fn system() -> Self {
        std::env::var("TZ")
            .ok()
            .and_then(|tz| tz.trim_start_matches(':').parse().ok())
            .or_else(|| iana_time_zone::get_timezone().ok()?.parse().ok())
            .map_or(Self::UTC, Self)
    }

    /// The zone `--tz` names, or the system's without one.
    pub fn from_flag(flag: Option<&str>) -> Result<Self, String> {
        match flag {
            Some(name) => name.parse(),
            None => Ok(Self::system()),
        }
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// `input` as an instant: `YYYY-MM-DD HH:MM[:SS]` (a `T` may stand for the space)
    /// in this zone, or RFC 3339 with its own offset. The error shows both forms.
    pub fn parse(&self, input: &str) -> Result<DateTime<Utc>, String> {
        let text = input.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.with_timezone(&Utc));
        }
        let local = [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| self.bad(input))?;
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            // The hour the clocks go back happens twice: the first one is meant.
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => Err(format!(
                "{text} does not exist in {} (the clocks skip that hour); pick another time",
                self.name()
            )),
        }
    }

    fn bad(&self, input: &str) -> String {
        format!(
            "`{input}` is not a date and time: use `2026-12-07 10:30` (in {}, or pass --tz) \
             or RFC 3339 like `2026-12-07T10:30:00Z`",
            self.name()
        )
    }

    /// `t` as people read it: `2026-12-07 10:30`, in this zone.
    pub fn format(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0).format(FORMAT).to_string()
    }

    /// `t` with the zone's abbreviation: `2026-12-07 10:30 CET`.
    pub fn format_with_zone(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// `t` in this zone, for custom formats.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.0)
    }

    /// The day `t` falls on in this zone.
    pub fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date_naive()
    }

    /// The instant day `d` starts in this zone (the first instant of a day whose
    /// midnight the clocks skip).
    pub fn start_of(&self, d: NaiveDate) -> DateTime<Utc> {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.0.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => self
                .0
                .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc)),
        }
    }
}

/// UTC: what tests and the wire use (people get [`Zone::system`] through `--tz`).
impl Default for Zone {
    fn default() -> Self {
        Self::UTC
    }
}

impl FromStr for Zone {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        let name = name.trim();
        // The aliases of UTC (`/etc/localtime` is often `Etc/UTC`) all read as `UTC`.
        const UTC_ALIASES: [&str; 9] = [
            "utc",
            "z",
            "etc/utc",
            "etc/uct",
            "uct",
            "etc/universal",
            "universal",
            "etc/zulu",
            "zulu",
        ];
        if UTC_ALIASES.iter().any(|a| name.eq_ignore_ascii_case(a)) {
            return Ok(Self::UTC);
        }
        name.parse::<Tz>().map(Self).map_err(|_| {
            format!("`{name}` is not a time zone: use an IANA name like Asia/Kolkata, Europe/Berlin or UTC")
        })
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        name.parse().expect("a zone")
    }

    #[test]
    fn local_times_are_read_in_the_zone_and_rfc3339_keeps_its_offset() {
        let kolkata = zone("Asia/Kolkata");
        let want = Utc.with_ymd_and_hms(2026, 12, 7, 5, 0, 0).unwrap();
        assert_eq!(kolkata.parse("2026-12-07 10:30").unwrap(), want);
        assert_eq!(kolkata.parse("2026-12-07T10:30").unwrap(), want);
        assert_eq!(kolkata.parse(" 2026-12-07 10:30:00 ").unwrap(), want);
        assert_eq!(kolkata.parse("2026-12-07T05:00:00Z").unwrap(), want);
        assert_eq!(
            zone("UTC").parse("2026-12-07T10:30:00+05:30").unwrap(),
            want
        );
        assert_eq!(kolkata.format(want), "2026-12-07 10:30");
        assert_eq!(kolkata.format_with_zone(want), "2026-12-07 10:30 IST");
    }

    #[test]
    fn a_bad_time_names_both_forms_and_the_zone() {
        let err = zone("Europe/Berlin").parse("next tuesday").unwrap_err();
        assert!(
            err.contains("`next tuesday` is not a date and time"),
            "{err}"
        );
        assert!(
            err.contains("`2026-12-07 10:30` (in Europe/Berlin"),
            "{err}"
        );
        assert!(err.contains("2026-12-07T10:30:00Z"), "{err}");
        assert!(zone("Europe/Berlin").parse("2026-13-01 10:00").is_err());
        let err = "Mars/Olympus".parse::<Zone>().unwrap_err();
        assert!(err.contains("Asia/Kolkata"), "{err}");
    }

    #[test]
    fn the_skipped_hour_is_an_error_and_the_repeated_one_means_the_first() {
        let berlin = zone("Europe/Berlin");
        let err = berlin.parse("2026-03-29 02:30").unwrap_err();
        assert!(err.contains("does not exist in Europe/Berlin"), "{err}");
        // 02:30 on 25 Oct 2026 happens at 00:30 UTC (CEST) and again at 01:30 (CET).
        assert_eq!(
            berlin.parse("2026-10-25 02:30").unwrap(),
            Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()
        );
    }

    #[test]
    fn the_aliases_of_utc_read_as_utc() {
        for alias in ["Etc/UTC", "UTC", "Zulu", "etc/universal"] {
            assert_eq!(zone(alias).name(), "UTC", "{alias}");
        }
    }

    #[test]
    fn a_day_starts_at_the_zones_midnight() {
        let kolkata = zone("Asia/Kolkata");
        let d = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            kolkata.start_of(d),
            Utc.with_ymd_and_hms(2026, 12, 6, 18, 30, 0).unwrap()
        );
        assert_eq!(
            kolkata.date_of(Utc.with_ymd_and_hms(2026, 12, 6, 19, 0, 0).unwrap()),
            d
        );
    }
}
