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
