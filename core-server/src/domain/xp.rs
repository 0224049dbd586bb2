//! XP rules that need no database: the level curve and daily streaks.

use chrono::NaiveDate;

/// The level `xp` reaches: level n needs 50·n·(n−1) XP — 0, 100, 300, 600, 1000, …
/// (each level takes 100 XP more than the one before).
pub fn level_for(xp: i64) -> i32 {
    let mut level: i64 = 1;
    while 50 * (level + 1) * level <= xp {
        level += 1;
    }
    i32::try_from(level).unwrap_or(i32::MAX)
}

/// The streak after activity on `today`, given the last active day and the streak then:
/// the same day keeps it, the next day extends it, any later day starts again at 1.
pub fn next_streak(last: Option<NaiveDate>, current: i32, today: NaiveDate) -> i32 {
    match last {
        Some(day) if day == today => current.max(1),
        Some(day) if day.succ_opt() == Some(today) => current + 1,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_documented_curve() {
        let at = level_for;
        assert_eq!(
            [at(0), at(99), at(100), at(299), at(300), at(600), at(1000)],
            [1, 1, 2, 2, 3, 4, 5]
        );
    }

    #[test]
    fn streaks_continue_on_the_next_day_and_restart_after_a_missed_one() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(next_streak(None, 0, day(7)), 1);
        assert_eq!(next_streak(Some(day(6)), 4, day(7)), 5);
        assert_eq!(next_streak(Some(day(7)), 5, day(7)), 5);
        assert_eq!(next_streak(Some(day(5)), 5, day(7)), 1);
    }
}

/// What a student has done, as far as badges ask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    pub lessons_completed: i64,
    pub courses_completed: i64,
    pub perfect_scores: i64,
    pub answers_accepted: i64,
    pub classes_attended: i64,
    pub current_streak: i32,
    pub level: i32,
}

/// A badge of the catalogue: its code, title and what unlocks it.
pub struct BadgeRule {
    pub code: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub earned: fn(&Record) -> bool,
}

/// The catalogue of badges; each is unlocked once, the first time its rule holds.
pub const BADGES: &[BadgeRule] = &[
    BadgeRule {
        code: "FIRST_LESSON",
        title: "First steps",
        description: "Completed a first lesson",
        earned: |r| r.lessons_completed >= 1,
    },
    BadgeRule {
        code: "COURSE_COMPLETED",
        title: "Finisher",
        description: "Completed a whole course",
        earned: |r| r.courses_completed >= 1,
    },
    BadgeRule {
        code: "FIRST_PERFECT",
        title: "Full marks",
        description: "A first perfect score on a test",
        earned: |r| r.perfect_scores >= 1,
    },
    BadgeRule {
        code: "STREAK_7",
        title: "A week in a row",
        description: "Learned on 7 days in a row",
        earned: |r| r.current_streak >= 7,
    },
    BadgeRule {
        code: "STREAK_30",
        title: "A month in a row",
        description: "Learned on 30 days in a row",
        earned: |r| r.current_streak >= 30,
    },
    BadgeRule {
        code: "HELPER_10",
        title: "Helper",
        description: "10 answers accepted by the students who asked",
        earned: |r| r.answers_accepted >= 10,
    },
    BadgeRule {
        code: "FIRST_CLASS",
        title: "Present",
        description: "Attended a first live class",
        earned: |r| r.classes_attended >= 1,
    },
    BadgeRule {
        code: "LEVEL_5",
        title: "Level 5",
        description: "Reached level 5 (1,000 XP)",
        earned: |r| r.level >= 5,
    },
];

#[cfg(test)]
mod badge_tests {
    use super::*;

    #[test]
    fn badges_hold_from_their_threshold_on() {
        let holds = |r: &Record| -> Vec<&str> {
            BADGES
                .iter()
                .filter(|b| (b.earned)(r))
                .map(|b| b.code)
                .collect()
        };
        assert!(holds(&Record::default()).is_empty());
        let r = Record {
            lessons_completed: 3,
            answers_accepted: 10,
            current_streak: 7,
            ..Record::default()
        };
        assert_eq!(holds(&r), ["FIRST_LESSON", "STREAK_7", "HELPER_10"]);
    }
}
