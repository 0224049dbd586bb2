//! Deterministic demo data, created through the API so it works against any server
//! (the embedded demo, or a school's staging server in CI). Running it again changes
//! nothing: every record is looked up by its natural key first.

mod activity;
mod classroom;
mod sales;

use classroom::seed_demo_classroom;
use sales::seed_demo_sales;
pub use sales::{COUPON as DEMO_COUPON, PRICE as DEMO_PRICE, buyer as demo_buyer};

use edupro_server::api::{
    AuthSession, CourseFilter, CreatedUser, LessonType, LinkChild, Login, LoginOutcome, NewBatch,
    NewBatchMember, NewCourse, NewLesson, NewSection, NewUser, ProgressInput, Role,
    StaffEnrollment, User, UserFilter,
};
use serde::{Deserialize, Serialize};

use crate::api::{self, ApiClient};
use crate::error::{ClientError, Result};

/// The password every demo account gets (shown by `edupro demo`).
pub const DEMO_PASSWORD: &str = "Demo-pass1!";
/// The demo's email domain.
pub const DEMO_DOMAIN: &str = "demo.edupro.example";

const FIRST: [&str; 16] = [
    "Aarav", "Ada", "Bilal", "Chen", "Diya", "Emeka", "Farah", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Leila", "Mateo", "Nadia", "Omar",
];
const LAST: [&str; 12] = [
    "Sharma", "Lovelace", "Khan", "Wei", "Patel", "Okafor", "Haddad", "Hopper", "Tanaka", "Silva",
    "Berg", "Iyer",
];

/// One account of the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
}

/// What the demo holds: accounts, and which parent is linked to which child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoPlan {
    pub users: Vec<DemoUser>,
    /// (parent email, child email).
    pub links: Vec<(String, String)>,
}

/// The demo for `seed`: 3 teachers, 12 students, 4 parents each linked to a student.
/// The same seed always gives the same plan.
pub fn plan(seed: u64) -> DemoPlan {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    let mut users = Vec::new();
    let person =
        |role: Role, label: &str, i: usize, next: &mut dyn FnMut(usize) -> usize| DemoUser {
            email: format!("{label}{}@{DEMO_DOMAIN}", i + 1),
            first_name: FIRST[next(FIRST.len())].to_owned(),
            last_name: LAST[next(LAST.len())].to_owned(),
            role,
        };
    for i in 0..3 {
        users.push(person(Role::Teacher, "teacher", i, &mut next));
    }
    for i in 0..12 {
        users.push(person(Role::Student, "student", i, &mut next));
    }
    for i in 0..4 {
        users.push(person(Role::Parent, "parent", i, &mut next));
    }
    let links = (0..4)
        .map(|i| {
            let child = next(12);
            (
                format!("parent{}@{DEMO_DOMAIN}", i + 1),
                format!("student{}@{DEMO_DOMAIN}", child + 1),
            )
        })
        .collect();
    DemoPlan { users, links }
}

/// How a seeding run went.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedReport {
    pub created: usize,
    pub unchanged: usize,
}

impl SeedReport {
    fn add(&mut self, other: SeedReport) {
        self.created += other.created;
        self.unchanged += other.unchanged;
    }
}

async fn find_user(client: &ApiClient, email: &str) -> Result<Option<User>> {
    let filter = UserFilter {
        search: Some(email.to_owned()),
        ..UserFilter::default()
    };
    let list = client.users(&filter, api::first(100)).await?;
    Ok(list.users.into_iter().find(|u| u.email == email))
}

/// Creates what `plan(seed)` holds and is missing. Needs an admin.
pub async fn seed_demo(client: &ApiClient, seed: u64) -> Result<SeedReport> {
    let plan = plan(seed);
    let mut report = SeedReport::default();
    let mut ids = std::collections::HashMap::new();
    for user in &plan.users {
        let existing = find_user(client, &user.email).await?;
        let id = match existing {
            Some(found) => {
                report.unchanged += 1;
                found.id
            }
            None => {
                let body = NewUser {
                    email: user.email.clone(),
                    password: Some(DEMO_PASSWORD.to_owned()),
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    phone: None,
                    role: user.role,
                };
                let created: CreatedUser = client.create_user(&body).await?;
                report.created += 1;
                created.user.id
            }
        };
        ids.insert(user.email.clone(), id);
    }
    for (parent, child) in &plan.links {
        let (Some(parent_id), Some(child_id)) = (ids.get(parent), ids.get(child)) else {
            continue;
        };
        let link = LinkChild {
            child_id: *child_id,
        };
        match client.link_child(*parent_id, &link).await {
            Ok(_) => report.created += 1,
            Err(ClientError::Api { status: 409, .. }) => report.unchanged += 1,
            Err(err) => return Err(err),
        }
    }
    Ok(report)
}

/// Signs a demo account in with [`DEMO_PASSWORD`]; `None` when the server asks it for
/// a 2FA code (demo accounts have none).
pub async fn demo_session(server: &str, email: &str) -> Result<Option<AuthSession>> {
    let login = Login {
        email: email.to_owned(),
        password: DEMO_PASSWORD.to_owned(),
    };
    let outcome = ApiClient::anonymous(server)?.login(&login).await?;
    Ok(match outcome {
        LoginOutcome::Session(session) => Some(*session),
        LoginOutcome::MfaRequired(_) => None,
    })
}

/// The demo teacher, the same for every seed: the courses, test and classes are theirs.
pub fn demo_teacher() -> String {
    format!("teacher1@{DEMO_DOMAIN}")
}

/// Everything the demo holds, as `edupro seed demo` and `edupro demo` make it: the
/// accounts (as `admin`), then, signed in as [`demo_teacher`], their courses with
/// students, progress and a batch, a test whose attempts wait for marks, and upcoming
/// live classes (their enrollments and classes notify the students), then a sale of
/// the priced course with a coupon, and last (as `admin`) five weeks of the students'
/// learning history, rolled up for the dashboards. Returns the teacher's session too.
pub async fn seed_demo_school(admin: &ApiClient, seed: u64) -> Result<(SeedReport, AuthSession)> {
    let mut report = seed_demo(admin, seed).await?;
    let email = demo_teacher();
    let Some(session) = demo_session(&admin.server, &email).await? else {
        return Err(ClientError::LoginRefused(format!(
            "{email} was asked for a 2FA code, which demo teachers don't have; \
             turn 2FA off for {email} or seed a fresh server"
        )));
    };
    let teacher = ApiClient::with_token(&admin.server, &session.access_token)?;
    report.add(seed_demo_courses(&teacher, admin).await?);
    report.add(seed_demo_classroom(&teacher).await?);
    report.add(seed_demo_sales(&teacher).await?);
    report.add(activity::seed_demo_activity(admin, &teacher, seed).await?);
    Ok((report, session))
}

/// The demo teacher's courses: a published one with two sections and six students
/// enrolled, each further through it than the last, and a draft. Created once: nothing happens when the teacher
/// already has courses. `admin` looks the students up; `teacher` creates and enrolls.
async fn seed_demo_courses(teacher: &ApiClient, admin: &ApiClient) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    let me: User = teacher.me().await?;
    let filter = CourseFilter {
        creator: Some(me.id),
        ..CourseFilter::default()
    };
    let mine = teacher.courses(&filter, api::DEFAULT_PAGE).await?;
    if !mine.courses.is_empty() {
        report.unchanged += mine.courses.len();
        return Ok(report);
    }
    /// A section's title and its lessons' titles.
    type Outline = &'static [(&'static str, &'static [&'static str])];
    let outlines: [(&str, &str, Outline, bool); 2] = [
        (
            "Rust for Beginners",
            "Ownership, borrowing and the tools, one small program at a time.",
            &[
                (
                    "Getting started",
                    &["Installing Rust", "Hello, world", "Cargo"],
                ),
                ("Ownership", &["Moves and copies", "Borrowing", "Lifetimes"]),
            ],
            true,
        ),
        (
            "Algebra I",
            "Linear equations, inequalities and graphs.",
            &[("Equations", &["One variable", "Two variables"])],
            false,
        ),
    ];
    let mut published = None;
    let mut lesson_ids = Vec::new();
    for (title, description, sections, publish) in outlines {
        let body = NewCourse {
            title: title.to_owned(),
            description: Some(description.to_owned()),
            is_free: Some(true),
            ..NewCourse::default()
        };
        let course = teacher.create_course(&body).await?.id.to_string();
        report.created += 1;
        for (section, lessons) in sections {
            let body = NewSection {
                title: (*section).to_owned(),
                position: None,
            };
            let made = teacher.create_section(&course, &body).await?;
            report.created += 1;
            for lesson in *lessons {
                let body = NewLesson {
                    title: (*lesson).to_owned(),
                    r#type: LessonType::Text,
                    content: None,
                    url: None,
                    duration: Some(15),
                    is_free_preview: None,
                    is_published: Some(true),
                    position: None,
                };
                let made = teacher.create_lesson(made.id, &body).await?;
                report.created += 1;
                if publish {
                    lesson_ids.push(made.id);
                }
            }
        }
        if publish {
            teacher.publish_course(&course).await?;
            published = Some(course);
        }
    }
    if let Some(course) = published {
        let mut cohort = Vec::new();
        for i in 1..=6 {
            let Some(student) = find_user(admin, &format!("student{i}@{DEMO_DOMAIN}")).await?
            else {
                continue;
            };
            let body = StaffEnrollment {
                student_id: student.id,
                batch_id: None,
            };
            let enrolled = teacher.enroll_student(&course, &body).await?;
            report.created += 1;
            if i <= 3 {
                cohort.push(student.id);
            }
            // Student i is i-1 lessons in, so progress differs from row to row.
            if i > 1 {
                let Some(session) = demo_session(&teacher.server, &student.email).await? else {
                    continue;
                };
                let as_student = ApiClient::with_token(&teacher.server, &session.access_token)?;
                for lesson in lesson_ids.iter().take(i - 1) {
                    let progress = ProgressInput {
                        lesson_id: *lesson,
                        completed: true,
                        time_spent: Some(600),
                    };
                    as_student
                        .report_progress(enrolled.enrollment_id, &progress)
                        .await?;
                    report.created += 1;
                }
            }
        }
        // The first three students meet in the evenings: a batch classes can target.
        let body = NewBatch {
            name: "Evening cohort".into(),
            capacity: Some(10),
            starts_on: None,
            ends_on: None,
        };
        let batch = teacher.create_batch(&course, &body).await?;
        report.created += 1;
        for student in cohort {
            let member = NewBatchMember {
                student_id: student,
            };
            teacher.add_batch_member(batch.id, &member).await?;
            report.created += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan_and_another_seed_another() {
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7).users, plan(8).users);
        let p = plan(1);
        assert_eq!(
            p.users.iter().filter(|u| u.role == Role::Teacher).count(),
            3
        );
        assert_eq!(
            p.users.iter().filter(|u| u.role == Role::Student).count(),
            12
        );
        assert_eq!(p.links.len(), 4);
    }
}
