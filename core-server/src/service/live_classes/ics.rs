//! iCalendar (RFC 5545) output for the live-class feed: CRLF line ends, lines folded at
//! 75 octets (never inside a UTF-8 character), TEXT values escaped, times in UTC.

use chrono::{DateTime, Utc};

/// One event of the feed.
#[derive(Debug, Clone)]
pub struct IcsEvent {
    pub uid: String,
    pub stamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub cancelled: bool,
    pub sequence: i32,
}

/// `20261204T100000Z`.
pub fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded to at most 75 octets per physical line, each ending in CRLF;
/// continuation lines start with one space (which counts towards their 75).
pub fn push_folded(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// A whole VCALENDAR with `events`.
pub fn calendar(name: &str, events: &[IcsEvent]) -> String {
    let mut out = String::new();
    let mut line = |l: String| push_folded(&mut out, &l);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//EduPro+//Live classes//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape_text(name)));
    for e in events {
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}", e.uid));
        line(format!("DTSTAMP:{}", utc_stamp(e.stamp)));
        line(format!("DTSTART:{}", utc_stamp(e.start)));
        line(format!("DTEND:{}", utc_stamp(e.end)));
        line(format!("SEQUENCE:{}", e.sequence));
        line(format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(d) = &e.description {
            line(format!("DESCRIPTION:{}", escape_text(d)));
        }
        if let Some(l) = &e.location {
            line(format!("LOCATION:{}", escape_text(l)));
        }
        if let Some(u) = &e.url {
            line(format!("URL:{u}"));
        }
        line(format!(
            "STATUS:{}",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn text_escapes_backslash_semicolon_comma_and_newlines() {
        assert_eq!(escape_text("a\\b;c,d\ne\r\nf"), "a\\\\b\\;c\\,d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "é".repeat(60));
        push_folded(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn a_cancelled_event_has_its_status_and_utc_times() {
        let at = Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap();
        let text = calendar(
            "Classes",
            &[IcsEvent {
                uid: "x@edupro".into(),
                stamp: at,
                start: at,
                end: at + chrono::Duration::minutes(45),
                summary: "Algebra, part 1".into(),
                description: None,
                location: None,
                url: None,
                cancelled: true,
                sequence: 2,
            }],
        );
        assert!(text.contains("DTSTART:20261204T100000Z\r\n"));
        assert!(text.contains("DTEND:20261204T104500Z\r\n"));
        assert!(text.contains("SUMMARY:Algebra\\, part 1\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }
}
