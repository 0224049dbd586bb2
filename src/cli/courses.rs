//! `edupro courses list|show|create|edit|publish|archive|delete`.
//!
//! A course is named by its id or its slug everywhere. Prices are typed as amounts of
//! the currency (`499` or `499.50`) and sent in minor units; `--json` prints the wire's
//! minor units unchanged.

use clap::{Args, Subcommand};
use edupro_server::api::{
    Category, Course, CourseFilter, CourseLevel, CourseList, CourseSort, CourseStatus, NewCourse,
    UpdateCourse,
};
use uuid::Uuid;

use super::Context;
use super::confirm::{self, YesArg};
use super::paging::all_pages;
use crate::api::ApiClient;
use crate::error::{ClientError, Result};
use crate::output::Format;

const LIST_EXAMPLES: &str = "\
Examples:
  $ edupro courses list
  $ edupro courses list --status PUBLISHED --level BEGINNER --sort popular
  $ edupro courses list --search rust --free --limit 20

  # Slugs only, for a script
  $ edupro courses list --json slug --jq '.[].slug'";

const SHOW_EXAMPLES: &str = "\
Examples:
  $ edupro courses show intro-to-rust
  $ edupro courses show intro-to-rust --json title,status,priceMinor

  # The titles of its sections
  $ edupro courses show intro-to-rust --jq '.sections[].title'";

const CREATE_EXAMPLES: &str = "\
Examples:
  # A free draft; its slug is made from the title
  $ edupro courses create --title \"Intro to Rust\"

  # A paid course with tags, then its new slug
  $ edupro courses create --title \"Data Science\" --price 499 --currency INR \\
      --level INTERMEDIATE --tags python,ml --json slug --jq .slug";

/// `edupro courses …`.
#[derive(Debug, Subcommand)]
pub enum CoursesCommand {
    /// List the courses you may see (all pages unless --limit).
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Show a course with its outline: sections and their lessons.
    #[command(after_help = SHOW_EXAMPLES)]
    Show {
        /// The course: id, slug or SIS course_id.
        course: String,
    },
    /// Create a DRAFT course; you become its owner (teachers and admins).
    #[command(after_help = CREATE_EXAMPLES)]
    Create(CreateArgs),
    /// Change a course's fields (its staff and admins).
    Edit(EditArgs),
    /// Publish a course: it needs at least one published lesson. Its enrolled students
    /// are notified; asks first (--yes to skip).
    Publish {
        /// The course: id, slug or SIS course_id.
        course: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Archive a published course: it leaves the catalogue, enrollments stay, its
    /// students are notified. Asks first (--yes to skip).
    Archive {
        /// The course: id, slug or SIS course_id.
        course: String,
        #[command(flatten)]
        yes: YesArg,
    },
    /// Delete a course with its sections and lessons (owner or admin; not once
    /// enrolled). Asks first (--yes to skip).
    Delete {
        /// The course: id, slug or SIS course_id.
        course: String,
        #[command(flatten)]
        yes: YesArg,
    },
}

/// Filters of `courses list` (those of `GET /courses`).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A category's id or slug; its subcategories are included.
    #[arg(long)]
    pub category: Option<String>,
    /// BEGINNER, INTERMEDIATE or ADVANCED.
    #[arg(long)]
    pub level: Option<CourseLevel>,
    /// DRAFT, PUBLISHED or ARCHIVED.
    #[arg(long)]
    pub status: Option<CourseStatus>,
    /// The owner: user id, email or SIS user_id.
    #[arg(long, value_name = "USER")]
    pub creator: Option<String>,
    /// Match title, description and tags (ignoring case).
    #[arg(long)]
    pub search: Option<String>,
    /// newest (default), popular, rating, price or -price.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<CourseSort>,
    /// Only free (true) or only paid (false) courses.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub free: Option<bool>,
    /// What a buyer pays at least, e.g. 100 or 99.50.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub min_price: Option<i64>,
    /// What a buyer pays at most.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub max_price: Option<i64>,
    /// At most this many courses.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// Options of `courses create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What the course is called (3-200 characters).
    #[arg(long)]
    pub title: String,
    /// [default: made from the title, numbered when taken]
    #[arg(long)]
    pub slug: Option<String>,
    /// What students will learn.
    #[arg(long)]
    pub description: Option<String>,
    /// A category's id or slug.
    #[arg(long)]
    pub category: Option<String>,
    /// BEGINNER (default), INTERMEDIATE or ADVANCED.
    #[arg(long)]
    pub level: Option<CourseLevel>,
    /// A language tag such as `en` or `hi-IN` [default: en].
    #[arg(long)]
    pub language: Option<String>,
    /// The price as an amount of the currency, e.g. 499 or 499.50 [default: 0, free].
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub price: Option<i64>,
    /// A discounted price, below --price.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub discounted_price: Option<i64>,
    /// Three letters (ISO 4217) [default: INR].
    #[arg(long)]
    pub currency: Option<String>,
    /// Tags, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub tags: Option<Vec<String>>,
    /// A thumbnail image's URL.
    #[arg(long, value_name = "URL")]
    pub thumbnail: Option<String>,
}

/// Options of `courses edit`: only what is given changes.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The course: id, slug or SIS course_id.
    pub course: String,
    /// A new title.
    #[arg(long)]
    pub title: Option<String>,
    /// A new slug (the name in URLs and commands).
    #[arg(long)]
    pub slug: Option<String>,
    /// A new description.
    #[arg(long)]
    pub description: Option<String>,
    /// A category's id or slug.
    #[arg(long, conflicts_with = "no_category")]
    pub category: Option<String>,
    /// Take the course out of its category.
    #[arg(long)]
    pub no_category: bool,
    /// BEGINNER, INTERMEDIATE or ADVANCED.
    #[arg(long)]
    pub level: Option<CourseLevel>,
    /// A language tag such as `en` or `hi-IN`.
    #[arg(long)]
    pub language: Option<String>,
    /// The price as an amount of the currency; 0 makes the course free.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub price: Option<i64>,
    /// A discounted price, below the price.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount, conflicts_with = "no_discount")]
    pub discounted_price: Option<i64>,
    /// Remove the discount.
    #[arg(long)]
    pub no_discount: bool,
    /// Three letters (ISO 4217), e.g. INR or USD.
    #[arg(long)]
    pub currency: Option<String>,
    /// Tags, comma-separated (replacing the old ones; "" clears them).
    #[arg(long, value_delimiter = ',')]
    pub tags: Option<Vec<String>>,
    /// A thumbnail image's URL.
    #[arg(long, value_name = "URL", conflicts_with = "no_thumbnail")]
    pub thumbnail: Option<String>,
    /// Remove the thumbnail.
    #[arg(long)]
    pub no_thumbnail: bool,
    /// DRAFT, PUBLISHED or ARCHIVED (as `publish` and `archive` do).
    #[arg(long)]
    pub status: Option<CourseStatus>,
}

/// `499`, `499.5` or `499.50` → 49900, 49950, 49950 minor units.
pub fn parse_amount(raw: &str) -> std::result::Result<i64, String> {
    let bad = || format!("`{raw}` is not an amount such as 499 or 499.50");
    let text = raw.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(bad)
}

/// Minor units as `INR 499.00`; `free` for a free course.
pub fn money(minor: i64, currency: &str) -> String {
    format!("{currency} {}.{:02}", minor / 100, minor % 100)
}

/// What a buyer pays, as text.
pub fn price_text(c: &Course) -> String {
    if c.is_free {
        return "free".into();
    }
    match c.discounted_price {
        Some(d) => format!(
            "{} (was {})",
            money(d, &c.currency),
            money(c.price, &c.currency)
        ),
        None => money(c.price, &c.currency),
    }
}

/// A category's id from its id, slug or name (as `GET /categories` has them).
async fn category_id(client: &ApiClient, key: &str) -> Result<Uuid> {
    if let Ok(id) = Uuid::parse_str(key.trim()) {
        return Ok(id);
    }
    let tree = client.categories().await?;
    fn find<'a>(all: &'a [Category], key: &str) -> Option<&'a Category> {
        all.iter().find_map(|c| {
            if c.slug == key || c.name.eq_ignore_ascii_case(key) {
                Some(c)
            } else {
                find(&c.children, key)
            }
        })
    }
    find(&tree.categories, key.trim())
        .map(|c| c.id)
        .ok_or_else(|| ClientError::Api {
            status: 400,
            message: format!("no category `{key}`"),
            errors: vec![edupro_server::api::FieldError::new(
                "category",
                "no category with this id, slug or name; see GET /categories",
            )],
        })
}

const HEADERS: [&str; 8] = [
    "ID", "SLUG", "TITLE", "STATUS", "LEVEL", "PRICE", "STUDENTS", "RATING",
];

fn row(c: &Course) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.slug.clone(),
        c.title.clone(),
        c.status.to_string(),
        c.level.to_string(),
        price_text(c),
        c.total_students.to_string(),
        if c.total_reviews > 0 {
            format!("{:.1} ({})", c.rating, c.total_reviews)
        } else {
            String::new()
        },
    ]
}

fn fields(c: &Course, zone: crate::when::Zone) -> Vec<(&'static str, String)> {
    vec![
        ("id", c.id.to_string()),
        ("title", c.title.clone()),
        ("slug", c.slug.clone()),
        ("status", c.status.to_string()),
        ("level", c.level.to_string()),
        ("language", c.language.clone()),
        (
            "category",
            c.category
                .as_ref()
                .map(|k| k.name.clone())
                .unwrap_or_default(),
        ),
        ("price", price_text(c)),
        (
            "teacher",
            format!("{} {}", c.teacher.first_name, c.teacher.last_name),
        ),
        ("students", c.total_students.to_string()),
        (
            "rating",
            format!("{:.1} ({} reviews)", c.rating, c.total_reviews),
        ),
        ("tags", c.tags.join(", ")),
        (
            "published",
            c.published_at
                .map(|d| zone.format_with_zone(d))
                .unwrap_or_default(),
        ),
        ("created", zone.format_with_zone(c.created_at)),
    ]
}

/// The outline under a course's fields: `1  Title` per section, `1.2  Title  TYPE …` per
/// lesson, each with its id.
pub fn outline_text(c: &Course) -> String {
    let sections = c.sections.as_deref().unwrap_or_default();
    if sections.is_empty() {
        return "\n(no sections yet: `edupro sections add`)\n".into();
    }
    let mut text = String::from("\n");
    for s in sections {
        text.push_str(&format!("{}  {}  [{}]\n", s.order, s.title, s.id));
        for l in &s.lessons {
            let mut marks = vec![l.r#type.to_string(), format!("{} min", l.duration)];
            if !l.is_published {
                marks.push("unpublished".into());
            }
            if l.is_free_preview {
                marks.push("free preview".into());
            }
            text.push_str(&format!(
                "   {}.{}  {}  ({})  [{}]\n",
                s.order,
                l.order,
                l.title,
                marks.join(", "),
                l.id
            ));
        }
    }
    text
}

/// Prints one course: JSON as the server has it, else its fields and outline.
fn print_course(ctx: &Context, c: &Course) -> Result<()> {
    crate::output::print(ctx.out.record(c, &fields(c, ctx.zone))?)?;
    if matches!(ctx.out.format, Format::Table | Format::Plain) && c.sections.is_some() {
        crate::output::print(outline_text(c))?;
    }
    Ok(())
}

/// Runs `edupro courses …`.
pub async fn run(ctx: &Context, command: CoursesCommand) -> Result<()> {
    // The catalogue is public: browsing works signed out, too.
    let browsing = matches!(
        command,
        CoursesCommand::List(_) | CoursesCommand::Show { .. }
    );
    let client = match ctx.client() {
        Err(ClientError::NotLoggedIn { .. }) if browsing => {
            ApiClient::anonymous(&ctx.target.server)?
        }
        client => client?,
    };
    match command {
        CoursesCommand::List(args) => {
            let filter = CourseFilter {
                page: None,
                limit: None,
                category: args.category,
                level: args.level,
                status: args.status,
                creator: match &args.creator {
                    Some(key) => Some(super::keys::user(&client, key).await?),
                    None => None,
                },
                min_price: args.min_price,
                max_price: args.max_price,
                free: args.free,
                search: args.search,
                sort: args.sort,
            };
            let courses =
                all_pages::<CourseList, _, _>(args.limit, |at| client.courses(&filter, at)).await?;
            crate::output::print(ctx.out.list(&courses, &HEADERS, row)?)?;
        }
        CoursesCommand::Show { course } => {
            let c = client.course(&course).await?;
            print_course(ctx, &c)?;
        }
        CoursesCommand::Create(args) => {
            let category = match &args.category {
                Some(key) => Some(category_id(&client, key).await?),
                None => None,
            };
            let body = NewCourse {
                title: args.title,
                slug: args.slug,
                description: args.description,
                category,
                level: args.level,
                language: args.language,
                price: args.price,
                discounted_price: args.discounted_price,
                currency: args.currency,
                is_free: None,
                tags: args.tags.map(clean_tags),
                thumbnail: args.thumbnail,
            };
            let created = client.create_course(&body).await?;
            let c = client.course(&created.id.to_string()).await?;
            print_course(ctx, &c)?;
            ctx.out.note(&format!(
                "Created draft course {} ({}); add sections with `edupro sections add {}`",
                c.title, c.slug, c.slug
            ));
        }
        CoursesCommand::Edit(args) => {
            let category = match (&args.category, args.no_category) {
                (Some(key), _) => Some(Some(category_id(&client, key).await?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let body = UpdateCourse {
                title: args.title,
                slug: args.slug,
                description: args.description,
                category,
                level: args.level,
                language: args.language,
                price: args.price,
                discounted_price: match (args.discounted_price, args.no_discount) {
                    (Some(p), _) => Some(Some(p)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                currency: args.currency,
                is_free: None,
                tags: args.tags.map(clean_tags),
                thumbnail: match (args.thumbnail, args.no_thumbnail) {
                    (Some(t), _) => Some(Some(t)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                status: args.status,
            };
            if body == UpdateCourse::default() {
                return Err(ClientError::Usage(
                    "nothing to change: give at least one option (see `edupro courses edit --help`)"
                        .into(),
                ));
            }
            let course = client.update_course(&args.course, &body).await?;
            print_course(ctx, &course)?;
        }
        CoursesCommand::Publish { course, yes } => {
            if confirm::must_ask(yes, "publish the course")? {
                let c = client.course(&course).await?;
                confirm::ask(&format!(
                    "Publish \"{}\" ({})? It opens in the catalogue, and its {} will be notified.",
                    c.title,
                    c.slug,
                    crate::output::enrolled_students(c.total_students)
                ))?;
            }
            print_course(ctx, &client.publish_course(&course).await?)?;
        }
        CoursesCommand::Archive { course, yes } => {
            if confirm::must_ask(yes, "archive the course")? {
                let c = client.course(&course).await?;
                confirm::ask(&format!(
                    "Archive \"{}\" ({})? It leaves the catalogue, and its {} will be notified (their enrollments stay).",
                    c.title,
                    c.slug,
                    crate::output::enrolled_students(c.total_students)
                ))?;
            }
            print_course(ctx, &client.archive_course(&course).await?)?;
        }
        CoursesCommand::Delete { course, yes } => {
            if confirm::must_ask(yes, "delete the course")? {
                let c = client.course(&course).await?;
                let sections = c.sections.as_deref().unwrap_or_default();
                let lessons: usize = sections.iter().map(|s| s.lessons.len()).sum();
                confirm::ask(&format!(
                    "Delete \"{}\" ({}) with its {} section(s) and {lessons} lesson(s)? This cannot be undone.",
                    c.title,
                    c.slug,
                    sections.len()
                ))?;
            }
            let deleted = client.delete_course(&course).await?;
            let id = deleted["id"].as_str().unwrap_or_default().to_owned();
            crate::output::print(ctx.out.record(&deleted, &[("deleted", id)])?)?;
        }
    }
    Ok(())
}

/// Tags as typed: trimmed, empty ones dropped (so `--tags ""` clears them).
fn clean_tags(tags: Vec<String>) -> Vec<String> {
    tags.into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_typed_in_the_currency_and_sent_in_minor_units() {
        assert_eq!(parse_amount("499"), Ok(49_900));
        assert_eq!(parse_amount("499.5"), Ok(49_950));
        assert_eq!(parse_amount(" 0.05 "), Ok(5));
        for bad in [
            "",
            "-1",
            "1.234",
            "1,5",
            "abc",
            ".5",
            "99999999999999999999",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn money_has_two_decimals_and_its_currency() {
        assert_eq!(money(49_950, "INR"), "INR 499.50");
        assert_eq!(money(5, "USD"), "USD 0.05");
    }

    #[test]
    fn list_filters_parse_as_get_courses_spells_them() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "edupro",
            "courses",
            "list",
            "--sort",
            "-price",
            "--free",
            "--level",
            "advanced",
            "--min-price",
            "10",
            "--limit",
            "5",
        ])
        .unwrap();
        let crate::cli::Command::Courses(CoursesCommand::List(args)) = cli.command else {
            panic!("not courses list");
        };
        assert_eq!(args.sort, Some(CourseSort::PriceDesc));
        assert_eq!(args.free, Some(true));
        assert_eq!(args.level, Some(CourseLevel::Advanced));
        assert_eq!((args.min_price, args.limit), (Some(1000), Some(5)));
    }
}
