//! Prices: whole minor units (cents, paise) of an ISO 4217 currency, never floats.

/// An amount in minor units, 0 to 10¹² (ten billion in major units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(i64);

impl Money {
    pub const MAX: i64 = 1_000_000_000_000;

    pub fn parse(minor_units: i64) -> Result<Self, String> {
        if minor_units < 0 {
            return Err("must not be negative".into());
        }
        if minor_units > Self::MAX {
            return Err(format!("must be at most {} (minor units)", Self::MAX));
        }
        Ok(Self(minor_units))
    }

    pub fn minor_units(self) -> i64 {
        self.0
    }
}

/// An ISO 4217 code: three letters, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err("must be a three-letter ISO 4217 code such as INR or USD".into());
        }
        Ok(Self(code.to_ascii_uppercase()))
    }
}

impl AsRef<str> for Currency {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::{Currency, Money};

    #[test]
    fn amounts_are_whole_non_negative_minor_units() {
        assert_eq!(Money::parse(49_900).unwrap().minor_units(), 49_900);
        assert!(Money::parse(0).is_ok());
        assert!(Money::parse(-1).is_err());
        assert!(Money::parse(Money::MAX + 1).is_err());
    }

    #[test]
    fn currencies_are_three_letters_upper_cased() {
        assert_eq!(Currency::parse(" usd ").unwrap().as_ref(), "USD");
        for bad in ["", "US", "USDT", "U5D", "₹"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
