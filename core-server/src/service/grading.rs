//! Objective grading as a pure function: a question's key and a student's response in,
//! marks (hundredths) and an outcome out. No database, no clock, so the table of cases
//! at the bottom pins every rule down.
//!
//! - MCQ and TRUE_FALSE: the one correct option earns the marks; any other choice (or
//!   several) is wrong.
//! - MULTIPLE_SELECT, ALL_OR_NOTHING: exactly the correct set earns the marks.
//!   PROPORTIONAL (Canvas' partial credit): each correct pick earns marks ÷ correct
//!   options, each wrong pick takes as much back, never below 0 for the question; a
//!   question that ends at 0 with something picked is wrong.
//! - SHORT_ANSWER: matches an accepted answer after Unicode NFKC, lower-casing and
//!   collapsing whitespace; with a numeric tolerance, a number within it of a numeric
//!   accepted answer (bounds included) matches too.
//! - LONG_ANSWER: pending, for the grading queue.
//! - Wrong answers lose `negative` marks; empty answers score 0 and lose nothing.

use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::api::{AnswerOutcome, MultipleSelectScoring, QuestionType};

/// What grading needs to know about a question.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    pub kind: QuestionType,
    /// Hundredths.
    pub marks: i64,
    /// Hundredths taken off for a wrong answer (≥ 0).
    pub negative: i64,
    pub correct: &'a [Uuid],
    pub accepted: &'a [String],
    pub tolerance: Option<f64>,
    pub scoring: MultipleSelectScoring,
}

/// A student's response: chosen options or text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Response<'a> {
    pub selected: &'a [Uuid],
    pub text: Option<&'a str>,
}

/// Marks (hundredths; `None` while pending) and how the answer was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graded {
    pub marks: Option<i64>,
    pub outcome: AnswerOutcome,
}

impl Graded {
    fn correct(marks: i64) -> Self {
        Self {
            marks: Some(marks),
            outcome: AnswerOutcome::Correct,
        }
    }

    fn wrong(negative: i64) -> Self {
        Self {
            marks: Some(-negative),
            outcome: AnswerOutcome::Wrong,
        }
    }

    fn empty() -> Self {
        Self {
            marks: Some(0),
            outcome: AnswerOutcome::Empty,
        }
    }
}

/// Grades one response against one key.
pub fn grade(key: &Key<'_>, response: &Response<'_>) -> Graded {
    match key.kind {
        QuestionType::Mcq | QuestionType::TrueFalse => match response.selected {
            [] => Graded::empty(),
            [one] if key.correct == [*one] => Graded::correct(key.marks),
            _ => Graded::wrong(key.negative),
        },
        QuestionType::MultipleSelect => multiple_select(key, response.selected),
        QuestionType::ShortAnswer => {
            let given = normalize(response.text.unwrap_or_default());
            if given.is_empty() {
                Graded::empty()
            } else if short_answer_matches(&given, key.accepted, key.tolerance) {
                Graded::correct(key.marks)
            } else {
                Graded::wrong(key.negative)
            }
        }
        QuestionType::LongAnswer => {
            if response.text.unwrap_or_default().trim().is_empty() {
                Graded::empty()
            } else {
                Graded {
                    marks: None,
                    outcome: AnswerOutcome::Pending,
                }
            }
        }
    }
}

fn multiple_select(key: &Key<'_>, selected: &[Uuid]) -> Graded {
    if selected.is_empty() {
        return Graded::empty();
    }
    let hits = selected.iter().filter(|s| key.correct.contains(s)).count() as i64;
    let misses = selected.len() as i64 - hits;
    let needed = key.correct.len() as i64;
    if hits == needed && misses == 0 {
        return Graded::correct(key.marks);
    }
    match key.scoring {
        MultipleSelectScoring::AllOrNothing => Graded::wrong(key.negative),
        MultipleSelectScoring::Proportional => {
            let net = (hits - misses).max(0);
            if net == 0 || needed == 0 {
                Graded::wrong(key.negative)
            } else {
                // Rounded half up to the hundredth.
                let marks = (key.marks * net * 2 + needed) / (needed * 2);
                Graded {
                    marks: Some(marks),
                    outcome: AnswerOutcome::Partial,
                }
            }
        }
    }
}

/// NFKC, lower case, runs of whitespace as one space, trimmed: how short answers compare.
pub fn normalize(text: &str) -> String {
    let folded: String = text.nfkc().collect::<String>().to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A finite number written plainly (`3.14`, `-2`, `1e3`), after normalisation.
fn number(text: &str) -> Option<f64> {
    let n: f64 = text.replace(' ', "").parse().ok()?;
    n.is_finite().then_some(n)
}

fn short_answer_matches(given: &str, accepted: &[String], tolerance: Option<f64>) -> bool {
    if accepted.iter().any(|a| normalize(a) == given) {
        return true;
    }
    let (Some(tolerance), Some(value)) = (tolerance, number(given)) else {
        return false;
    };
    accepted
        .iter()
        .filter_map(|a| number(&normalize(a)))
        // The epsilon keeps bounds inclusive despite binary fractions (0.1 + 0.2).
        .any(|a| (value - a).abs() <= tolerance + 1e-9 * a.abs().max(1.0))
}

/// The score that counts: the sum of the marks, not below zero unless the test allows.
pub fn total(raw: i64, allow_negative: bool) -> i64 {
    if allow_negative { raw } else { raw.max(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u128) -> Vec<Uuid> {
        (1..=n).map(Uuid::from_u128).collect()
    }

    struct Case {
        name: &'static str,
        kind: QuestionType,
        scoring: MultipleSelectScoring,
        correct: Vec<u128>,
        accepted: Vec<&'static str>,
        tolerance: Option<f64>,
        selected: Vec<u128>,
        text: Option<&'static str>,
        expected: (Option<i64>, AnswerOutcome),
    }

    fn case(name: &'static str, kind: QuestionType) -> Case {
        Case {
            name,
            kind,
            scoring: MultipleSelectScoring::AllOrNothing,
            correct: vec![],
            accepted: vec![],
            tolerance: None,
            selected: vec![],
            text: None,
            expected: (Some(0), AnswerOutcome::Empty),
        }
    }

    impl Case {
        fn correct(mut self, c: &[u128]) -> Self {
            self.correct = c.to_vec();
            self
        }
        fn pick(mut self, s: &[u128]) -> Self {
            self.selected = s.to_vec();
            self
        }
        fn accept(mut self, a: &[&'static str]) -> Self {
            self.accepted = a.to_vec();
            self
        }
        fn text(mut self, t: &'static str) -> Self {
            self.text = Some(t);
            self
        }
        fn tolerance(mut self, t: f64) -> Self {
            self.tolerance = Some(t);
            self
        }
        fn proportional(mut self) -> Self {
            self.scoring = MultipleSelectScoring::Proportional;
            self
        }
        fn expect(mut self, marks: Option<i64>, outcome: AnswerOutcome) -> Self {
            self.expected = (marks, outcome);
            self
        }
    }

    use AnswerOutcome::{Correct, Partial, Pending, Wrong};
    use QuestionType::{LongAnswer, Mcq, MultipleSelect, ShortAnswer, TrueFalse};

    /// Every question is worth 3 marks (300) with 1 negative mark (100).
    fn cases() -> Vec<Case> {
        vec![
            // MCQ
            case("mcq exact", Mcq)
                .correct(&[2])
                .pick(&[2])
                .expect(Some(300), Correct),
            case("mcq wrong loses the negative marks", Mcq)
                .correct(&[2])
                .pick(&[1])
                .expect(Some(-100), Wrong),
            case("mcq empty scores zero without penalty", Mcq).correct(&[2]),
            case("mcq with two picks is wrong", Mcq)
                .correct(&[2])
                .pick(&[1, 2])
                .expect(Some(-100), Wrong),
            // TRUE_FALSE
            case("true/false exact", TrueFalse)
                .correct(&[1])
                .pick(&[1])
                .expect(Some(300), Correct),
            case("true/false wrong", TrueFalse)
                .correct(&[1])
                .pick(&[2])
                .expect(Some(-100), Wrong),
            case("true/false empty", TrueFalse).correct(&[1]),
            // MULTIPLE_SELECT, all or nothing
            case("multi exact set", MultipleSelect)
                .correct(&[1, 3])
                .pick(&[3, 1])
                .expect(Some(300), Correct),
            case("multi subset is wrong when all-or-nothing", MultipleSelect)
                .correct(&[1, 3])
                .pick(&[1])
                .expect(Some(-100), Wrong),
            case(
                "multi superset is wrong when all-or-nothing",
                MultipleSelect,
            )
            .correct(&[1, 3])
            .pick(&[1, 2, 3])
            .expect(Some(-100), Wrong),
            case("multi empty", MultipleSelect).correct(&[1, 3]),
            // MULTIPLE_SELECT, proportional
            case("proportional exact", MultipleSelect)
                .proportional()
                .correct(&[1, 2, 3])
                .pick(&[1, 2, 3])
                .expect(Some(300), Correct),
            case("proportional two of three", MultipleSelect)
                .proportional()
                .correct(&[1, 2, 3])
                .pick(&[1, 2])
                .expect(Some(200), Partial),
            case(
                "proportional one of three rounds to hundredths",
                MultipleSelect,
            )
            .proportional()
            .correct(&[1, 2, 3])
            .pick(&[1])
            .expect(Some(100), Partial),
            case(
                "proportional wrong pick cancels a right one",
                MultipleSelect,
            )
            .proportional()
            .correct(&[1, 2, 3])
            .pick(&[1, 2, 4])
            .expect(Some(100), Partial),
            case("proportional net zero is wrong", MultipleSelect)
                .proportional()
                .correct(&[1, 2])
                .pick(&[1, 3])
                .expect(Some(-100), Wrong),
            case("proportional only wrong picks", MultipleSelect)
                .proportional()
                .correct(&[1, 2])
                .pick(&[3, 4])
                .expect(Some(-100), Wrong),
            case("proportional empty", MultipleSelect)
                .proportional()
                .correct(&[1, 2]),
            // SHORT_ANSWER
            case("short exact", ShortAnswer)
                .accept(&["Paris"])
                .text("Paris")
                .expect(Some(300), Correct),
            case("short ignores case", ShortAnswer)
                .accept(&["Paris"])
                .text("pARIS")
                .expect(Some(300), Correct),
            case(
                "short ignores surrounding and inner whitespace",
                ShortAnswer,
            )
            .accept(&["New  York"])
            .text("  new\tyork \n")
            .expect(Some(300), Correct),
            case("short matches any accepted answer", ShortAnswer)
                .accept(&["colour", "color"])
                .text("COLOR")
                .expect(Some(300), Correct),
            case("short unicode composed equals decomposed", ShortAnswer)
                .accept(&["caf\u{e9}"])
                .text("cafe\u{301}")
                .expect(Some(300), Correct),
            case(
                "short unicode non-breaking and ideographic spaces",
                ShortAnswer,
            )
            .accept(&["ice cream"])
            .text("ice\u{a0}\u{3000}cream")
            .expect(Some(300), Correct),
            case("short unicode full-width letters fold (NFKC)", ShortAnswer)
                .accept(&["abc"])
                .text("\u{ff21}\u{ff22}\u{ff23}")
                .expect(Some(300), Correct),
            case("short unicode upper case beyond ASCII", ShortAnswer)
                .accept(&["ΣΟΦΙΑ"])
                .text("σοφια")
                .expect(Some(300), Correct),
            case("short wrong", ShortAnswer)
                .accept(&["Paris"])
                .text("Lyon")
                .expect(Some(-100), Wrong),
            case("short whitespace only is empty", ShortAnswer)
                .accept(&["Paris"])
                .text(" \t "),
            case("short without tolerance needs the exact text", ShortAnswer)
                .accept(&["3.14"])
                .text("3.140")
                .expect(Some(-100), Wrong),
            case("tolerance inside", ShortAnswer)
                .accept(&["3.14"])
                .tolerance(0.01)
                .text("3.145")
                .expect(Some(300), Correct),
            case("tolerance upper bound included", ShortAnswer)
                .accept(&["3.14"])
                .tolerance(0.01)
                .text("3.15")
                .expect(Some(300), Correct),
            case("tolerance lower bound included", ShortAnswer)
                .accept(&["0.3"])
                .tolerance(0.1)
                .text("0.2")
                .expect(Some(300), Correct),
            case("tolerance just outside", ShortAnswer)
                .accept(&["3.14"])
                .tolerance(0.01)
                .text("3.1501")
                .expect(Some(-100), Wrong),
            case(
                "tolerance zero still matches equal numbers written differently",
                ShortAnswer,
            )
            .accept(&["2"])
            .tolerance(0.0)
            .text("2.000")
            .expect(Some(300), Correct),
            case("tolerance with a non-number answer", ShortAnswer)
                .accept(&["3.14"])
                .tolerance(0.01)
                .text("pi")
                .expect(Some(-100), Wrong),
            case("tolerance refuses infinity", ShortAnswer)
                .accept(&["1e308"])
                .tolerance(1e308)
                .text("inf")
                .expect(Some(-100), Wrong),
            case("tolerance negative numbers", ShortAnswer)
                .accept(&["-273.15"])
                .tolerance(0.5)
                .text("-273")
                .expect(Some(300), Correct),
            // LONG_ANSWER
            case("long answer waits for a teacher", LongAnswer)
                .text("An essay")
                .expect(None, Pending),
            case("long answer empty scores zero", LongAnswer).text("   "),
        ]
    }

    #[test]
    fn every_grading_case_gives_its_marks_and_outcome() {
        for c in cases() {
            let correct: Vec<Uuid> = c.correct.iter().map(|n| Uuid::from_u128(*n)).collect();
            let selected: Vec<Uuid> = c.selected.iter().map(|n| Uuid::from_u128(*n)).collect();
            let accepted: Vec<String> = c.accepted.iter().map(|s| (*s).to_owned()).collect();
            let key = Key {
                kind: c.kind,
                marks: 300,
                negative: 100,
                correct: &correct,
                accepted: &accepted,
                tolerance: c.tolerance,
                scoring: c.scoring,
            };
            let got = grade(
                &key,
                &Response {
                    selected: &selected,
                    text: c.text,
                },
            );
            assert_eq!((got.marks, got.outcome), c.expected, "case `{}`", c.name);
        }
    }

    #[test]
    fn proportional_thirds_round_half_up_to_the_hundredth() {
        let correct = ids(3);
        let key = Key {
            kind: QuestionType::MultipleSelect,
            marks: 200,
            negative: 0,
            correct: &correct,
            accepted: &[],
            tolerance: None,
            scoring: MultipleSelectScoring::Proportional,
        };
        let one = grade(
            &key,
            &Response {
                selected: &correct[..1],
                text: None,
            },
        );
        let two = grade(
            &key,
            &Response {
                selected: &correct[..2],
                text: None,
            },
        );
        assert_eq!(one.marks, Some(67));
        assert_eq!(two.marks, Some(133));
    }

    #[test]
    fn the_total_stays_at_zero_unless_negative_totals_are_allowed() {
        assert_eq!(total(-150, false), 0);
        assert_eq!(total(-150, true), -150);
        assert_eq!(total(420, false), 420);
    }

    #[test]
    fn normalisation_folds_case_space_and_unicode_forms() {
        assert_eq!(normalize("  Émile\u{2003}ZOLA "), "émile zola");
        assert_eq!(normalize("ﬁne"), "fine");
    }
}
