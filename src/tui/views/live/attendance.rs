//! The attendance panel of one class: who attended and for how long, and who is
//! missing.

use edupro_server::api::{AttendanceReport, LiveClass};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::tui::theme::Theme;
use crate::tui::views::Load;

pub(super) fn draw_attendance(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    class: &LiveClass,
    report: &Load<AttendanceReport>,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(
            format!(
                " Attendance · {} · {} ",
                class.title,
                theme
                    .zone
                    .local(class.scheduled_at)
                    .format("%a %d %b %H:%M")
            ),
            theme.title(),
        ))
        .title_bottom(Line::styled(" esc back · ctrl-r reload ", theme.dim()).right_aligned());
    let report = match report {
        Load::Loading => {
            frame.render_widget(Paragraph::new("Loading attendance…").block(block), area);
            return;
        }
        Load::Failed(f) => {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(format!("Could not load: {}", f.message), theme.error()),
                    Line::styled("ctrl-r tries again", theme.dim()),
                ])
                .block(block),
                area,
            );
            return;
        }
        Load::Ready(r) => r,
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [summary, lists] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(format!(
            "{} of {} expected students attended · {} absent",
            report.present.len(),
            report.expected,
            report.absent.len()
        )),
        summary,
    );
    let [present, absent] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(lists);
    let height = usize::from(present.height.saturating_sub(3));
    let block = |title: String| {
        Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title()))
    };
    if report.present.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("Nobody has joined.", theme.dim()))
                .block(block(" Present ".into())),
            present,
        );
    } else {
        let rows = report.present.iter().take(height).map(|p| {
            Row::new(vec![
                Cell::from(format!("{} {}", p.student.first_name, p.student.last_name)),
                Cell::from(format!("{:>4}", p.minutes)),
                Cell::from(if p.present_now { "in now" } else { "" }),
            ])
        });
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Fill(1),
                    Constraint::Length(4),
                    Constraint::Length(6),
                ],
            )
            .header(Row::new(["STUDENT", " MIN", ""]).style(theme.header()))
            .block(block(format!(" Present ({}) ", report.present.len()))),
            present,
        );
    }
    let lines: Vec<Line> = if report.absent.is_empty() {
        vec![Line::styled("Nobody is missing.", theme.dim())]
    } else {
        report
            .absent
            .iter()
            .take(usize::from(absent.height.saturating_sub(2)))
            .map(|s| Line::from(format!("{} {}", s.first_name, s.last_name)))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(block(format!(" Absent ({}) ", report.absent.len()))),
        absent,
    );
}
