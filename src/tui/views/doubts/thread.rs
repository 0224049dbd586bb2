//! Drawing the tab: the queue (course, title, asker, age) and the selected doubt's
//! thread — beside it on a wide terminal, under it on a narrow one — or, while an
//! answer is written, the thread above the editor.

use edupro_server::api::{Doubt, DoubtAnswer};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Wrap};

use super::{DoubtsView, age, name};
use crate::tui::theme::Theme;
use crate::tui::views::Load;
use crate::tui::widgets::list::draw_table;

/// From this width the thread goes beside the queue rather than under it.
const SIDE_BY_SIDE: u16 = 110;

impl DoubtsView {
    pub(super) fn draw_tab(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        if let Some(answering) = &self.answering {
            let editor_height = (area.height / 2).max(6).min(area.height);
            let [thread, editor] =
                Layout::vertical([Constraint::Fill(1), Constraint::Length(editor_height)])
                    .areas(area);
            self.draw_thread(frame, thread, theme, &answering.doubt);
            answering.editor.draw(
                frame,
                editor,
                theme,
                &format!("Your answer to {}", name(&answering.doubt.author)),
            );
            return;
        }
        let Some(doubt) = self.list.current() else {
            // Loading, failed or empty: the queue says which, across the whole tab.
            return self.draw_queue(frame, area, theme);
        };
        let [queue, thread] = if area.width >= SIDE_BY_SIDE {
            Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(area)
        } else {
            let queue_height = (area.height * 2 / 5).max(5).min(area.height);
            Layout::vertical([Constraint::Length(queue_height), Constraint::Fill(1)]).areas(area)
        };
        self.draw_queue(frame, queue, theme);
        self.draw_thread(frame, thread, theme, doubt);
    }

    fn draw_queue(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let title = format!("Unanswered doubts ({} waiting)", self.list.total);
        let now = self.read_at;
        draw_table(
            frame,
            area,
            theme,
            &title,
            &self.list,
            &["COURSE", "TITLE", "ASKED BY", "AGE"],
            &[
                Constraint::Percentage(25),
                Constraint::Fill(1),
                Constraint::Length(14),
                Constraint::Length(4),
            ],
            |d: &Doubt| {
                vec![
                    Cell::from(d.course_title.clone()),
                    Cell::from(d.title.clone()),
                    Cell::from(name(&d.author)),
                    Cell::from(now.map(|now| age(d.created_at, now)).unwrap_or_default()),
                ]
            },
            "No doubts wait for an answer. New ones appear here as students ask them.",
        );
    }

    /// The doubt (as the thread has it once loaded) and its answers.
    fn draw_thread(&self, frame: &mut Frame, area: Rect, theme: Theme, doubt: &Doubt) {
        let load = self
            .thread
            .as_ref()
            .filter(|(id, _)| *id == doubt.id)
            .map(|(_, load)| load);
        let doubt = match load {
            Some(Load::Ready(thread)) => &thread.doubt,
            _ => doubt,
        };
        let mut head = vec![Span::styled("asked by ", theme.dim())];
        head.push(Span::raw(name(&doubt.author)));
        head.push(Span::styled(
            format!(" · {}", theme.zone.format(doubt.created_at)),
            theme.dim(),
        ));
        if let Some(now) = self.read_at {
            head.push(Span::styled(
                match age(doubt.created_at, now).as_str() {
                    "now" => " (just now)".to_owned(),
                    ago => format!(" ({ago} ago)"),
                },
                theme.dim(),
            ));
        }
        head.push(Span::raw(" · "));
        head.push(Span::styled(doubt.status.as_str(), theme.warn()));
        if doubt.votes > 0 {
            head.push(Span::raw(format!(" · {} votes", doubt.votes)));
        }
        if doubt.hidden {
            head.push(Span::styled(" · HIDDEN", theme.error()));
        }
        let mut lines = vec![Line::from(head)];
        if let Some(link) = &doubt.link {
            lines.push(Line::from(vec![
                Span::styled("link ", theme.dim()),
                Span::raw(link.clone()),
            ]));
        }
        lines.push(Line::default());
        lines.extend(doubt.body.lines().map(|l| Line::raw(l.to_owned())));
        lines.push(Line::default());
        match load {
            None | Some(Load::Loading) => lines.push(Line::styled("Loading answers…", theme.dim())),
            Some(Load::Failed(f)) => lines.push(Line::styled(
                format!("Could not load the answers: {}", f.message),
                theme.error(),
            )),
            Some(Load::Ready(thread)) if thread.answers.is_empty() => {
                lines.push(Line::styled("No answers yet; a answers it.", theme.dim()))
            }
            Some(Load::Ready(thread)) => {
                lines.push(Line::styled(
                    format!("Answers ({})", thread.answers.len()),
                    theme.header(),
                ));
                for answer in &thread.answers {
                    lines.extend(answer_lines(answer, theme));
                }
            }
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(
                format!(" {} · {} ", doubt.course_title, doubt.title),
                theme.title(),
            ))
            .title_bottom(
                Line::styled(
                    if self.answering.is_some() {
                        ""
                    } else {
                        " a answer · h hide · J/K scroll "
                    },
                    theme.dim(),
                )
                .right_aligned(),
            );
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(block),
            area,
        );
    }
}

/// An answer: who (and the marks: staff, accepted, hidden), when, then its text.
fn answer_lines(answer: &DoubtAnswer, theme: Theme) -> Vec<Line<'static>> {
    let mut head = vec![
        Span::styled("● ", theme.dim()),
        Span::raw(name(&answer.author)),
    ];
    if answer.by_staff {
        head.push(Span::styled(" [staff]", theme.key()));
    }
    if answer.accepted {
        head.push(Span::styled(" [✓ accepted]", theme.ok()));
    }
    if answer.hidden {
        head.push(Span::styled(" [hidden]", theme.error()));
    }
    head.push(Span::styled(
        format!(" · {}", theme.zone.format(answer.created_at)),
        theme.dim(),
    ));
    if answer.votes > 0 {
        head.push(Span::raw(format!(" · {} votes", answer.votes)));
    }
    let mut lines = vec![Line::from(head)];
    lines.extend(answer.body.lines().map(|l| Line::raw(format!("  {l}"))));
    lines
}
