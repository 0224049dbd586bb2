//! A review's rating: a whole number of stars from 1 to 5.

/// Stars given in a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(i32);

impl Rating {
    pub fn parse(stars: i64) -> Result<Self, String> {
        match i32::try_from(stars) {
            Ok(stars @ 1..=5) => Ok(Self(stars)),
            _ => Err("must be a whole number from 1 to 5".into()),
        }
    }

    pub fn stars(self) -> i32 {
        self.0
    }
}

/// The mean of `total` stars over `count` reviews, rounded to two decimals; 0 for none.
pub fn average(total: i64, count: i64) -> f64 {
    if count <= 0 {
        return 0.0;
    }
    // Exact for any realistic count: both fit in f64's 53-bit mantissa.
    ((total as f64 / count as f64) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::{Rating, average};

    #[test]
    fn one_to_five_stars_are_accepted() {
        for stars in 1..=5 {
            assert_eq!(Rating::parse(stars).unwrap().stars(), stars as i32);
        }
    }

    #[test]
    fn zero_six_and_huge_ratings_are_refused() {
        for bad in [0, 6, -1, i64::MAX] {
            assert!(Rating::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_average_is_rounded_to_two_decimals_and_zero_without_reviews() {
        assert_eq!(average(0, 0), 0.0);
        assert_eq!(average(14, 3), 4.67);
        assert_eq!(average(9, 2), 4.5);
    }
}
