//! `/enrollments` and `/courses/{key}/enrollments`: rosters, enrolling, a student's own
//! courses and their progress.

use edupro_server::api::{
    CourseEnrollment, CourseEnrollmentList, CreatedEnrollment, EnrollmentFilter, MyCourses,
    MyCoursesFilter, NewEnrollment, PageQuery, ProgressInput, ProgressUpdate, StaffEnrollment,
};
use uuid::Uuid;

use super::ApiClient;
use super::courses::course_path;
use crate::error::Result;

impl ApiClient {
    /// `GET /courses/{key}/enrollments`: page `at` of the course's roster (the filter's
    /// own `page` and `limit` give way to `at`'s).
    pub async fn enrollments(
        &self,
        course: &str,
        filter: &EnrollmentFilter,
        at: PageQuery,
    ) -> Result<CourseEnrollmentList> {
        let query = EnrollmentFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get(&format!("{}/enrollments", course_path(course)), &query)
            .await
    }

    /// `POST /courses/{key}/enrollments` (staff): enrolls a student, maybe into a batch.
    pub async fn enroll_student(
        &self,
        course: &str,
        body: &StaffEnrollment,
    ) -> Result<CreatedEnrollment> {
        self.post_json(&format!("{}/enrollments", course_path(course)), body)
            .await
    }

    /// `POST /enrollments`: the caller enrolls themself.
    pub async fn enroll(&self, body: &NewEnrollment) -> Result<CreatedEnrollment> {
        self.post_json("/enrollments", body).await
    }

    /// `DELETE /courses/{key}/enrollments/{student}`: the enrollment, now CANCELLED.
    pub async fn unenroll(&self, course: &str, student: Uuid) -> Result<CourseEnrollment> {
        self.delete(
            &format!("{}/enrollments/{student}", course_path(course)),
            &(),
        )
        .await
    }

    /// `GET /enrollments/my-courses`: page `at` of the caller's enrollments.
    pub async fn my_courses(&self, filter: &MyCoursesFilter, at: PageQuery) -> Result<MyCourses> {
        let query = MyCoursesFilter {
            page: at.page,
            limit: at.limit,
            ..filter.clone()
        };
        self.get("/enrollments/my-courses", &query).await
    }

    /// `POST /enrollments/{id}/progress`: a lesson finished (or not), and time spent.
    pub async fn report_progress(
        &self,
        enrollment: Uuid,
        body: &ProgressInput,
    ) -> Result<ProgressUpdate> {
        self.post_json(&format!("/enrollments/{enrollment}/progress"), body)
            .await
    }
}
