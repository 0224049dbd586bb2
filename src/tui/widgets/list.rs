//! A scrolling list over any number of rows: only the rows in view are turned into
//! widgets, so 10k rows cost what 20 do. Pages load as the selection nears the end.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::tui::action::Failure;
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// How far from the last loaded row the next page is asked for.
const PREFETCH: usize = 20;

/// Where a list's data stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Loading,
    Failed(Failure),
    Ready,
}

/// Items loaded page by page, a selection, and a scroll offset.
#[derive(Debug, Clone)]
pub struct PagedList<T> {
    pub items: Vec<T>,
    pub selected: usize,
    pub offset: usize,
    pub status: Status,
    /// The next page to ask for, when there is one.
    pub next_page: Option<u64>,
    pub total: u64,
    /// Bumped on every reload, so answers to older requests are dropped.
    pub generation: u64,
    /// A page request is out.
    pub fetching: bool,
}

impl<T> Default for PagedList<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            selected: 0,
            offset: 0,
            status: Status::Loading,
            next_page: None,
            total: 0,
            generation: 0,
            fetching: false,
        }
    }
}

impl<T> PagedList<T> {
    /// Forgets the items and starts again from page 1; returns the new generation.
    pub fn reset(&mut self) -> u64 {
        self.items.clear();
        self.selected = 0;
        self.offset = 0;
        self.status = Status::Loading;
        self.next_page = None;
        self.total = 0;
        self.generation += 1;
        self.fetching = true;
        self.generation
    }

    /// Takes a page's answer; `false` when it was for an older generation.
    pub fn accept(
        &mut self,
        generation: u64,
        answer: Result<(Vec<T>, u64, bool, u64), Failure>,
    ) -> bool {
        if generation != self.generation {
            return false;
        }
        self.fetching = false;
        match answer {
            Ok((items, page, has_next, total)) => {
                self.items.extend(items);
                self.next_page = has_next.then_some(page + 1);
                self.total = total;
                self.status = Status::Ready;
            }
            Err(failure) => {
                if self.items.is_empty() {
                    self.status = Status::Failed(failure);
                }
            }
        }
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
        true
    }

    pub fn current(&self) -> Option<&T> {
        self.items.get(self.selected)
    }

    pub fn current_mut(&mut self) -> Option<&mut T> {
        self.items.get_mut(self.selected)
    }

    /// Moves the selection for a navigation command; `true` when it was one.
    /// `page` is the number of rows in view.
    pub fn navigate(&mut self, command: Command, page: usize) -> bool {
        let last = self.items.len().saturating_sub(1);
        let page = page.max(1);
        self.selected = match command {
            Command::Up => self.selected.saturating_sub(1),
            Command::Down => (self.selected + 1).min(last),
            Command::PageUp => self.selected.saturating_sub(page),
            Command::PageDown => (self.selected + page).min(last),
            Command::Top => 0,
            Command::Bottom => last,
            _ => return false,
        };
        self.offset = visible_offset(self.offset, self.selected, page);
        true
    }

    /// The page to fetch now, when the selection is near the end of what is loaded.
    pub fn wants_more(&mut self) -> Option<(u64, u64)> {
        let page = self.next_page?;
        if self.fetching || self.selected + PREFETCH < self.items.len() {
            return None;
        }
        self.fetching = true;
        Some((self.generation, page))
    }
}

/// The first row to show so that `selected` is in a window of `height` rows, moving
/// as little as possible from `offset`.
pub fn visible_offset(offset: usize, selected: usize, height: usize) -> usize {
    let height = height.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    }
}

/// Draws `list` as a table in `area`: a header, then only the rows in view.
#[allow(clippy::too_many_arguments)]
pub fn draw_table<T>(
    frame: &mut Frame,
    area: Rect,
    theme: Theme,
    title: &str,
    list: &PagedList<T>,
    headers: &[&str],
    widths: &[Constraint],
    row: impl Fn(&T) -> Vec<Cell<'static>>,
    empty: &str,
) {
    let count = if list.total as usize > list.items.len() {
        format!(" {}/{} ", list.selected + 1, list.total)
    } else if list.items.is_empty() {
        String::new()
    } else {
        format!(" {}/{} ", list.selected + 1, list.items.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(format!(" {title} "), theme.title()))
        .title_bottom(Line::from(count).right_aligned());
    let inner = block.inner(area);
    match &list.status {
        Status::Loading if list.items.is_empty() => {
            frame.render_widget(Paragraph::new("Loading…").block(block), area);
            return;
        }
        Status::Failed(failure) => {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::styled(
                        format!("Could not load: {}", failure.message),
                        theme.error(),
                    ),
                    Line::styled("ctrl-r tries again", theme.dim()),
                ])
                .block(block),
                area,
            );
            return;
        }
        _ if list.items.is_empty() => {
            frame.render_widget(Paragraph::new(empty.to_owned()).block(block), area);
            return;
        }
        _ => {}
    }
    // One line for the header.
    let height = usize::from(inner.height.saturating_sub(1)).max(1);
    let offset = visible_offset(list.offset, list.selected, height);
    let end = (offset + height).min(list.items.len());
    let rows = list.items[offset..end].iter().enumerate().map(|(i, item)| {
        let selected = offset + i == list.selected;
        // The marker keeps the selection visible without colour (NO_COLOR).
        let mut cells = vec![Cell::from(if selected { "›" } else { " " })];
        cells.extend(row(item));
        let r = Row::new(cells);
        if selected {
            r.style(theme.selected())
        } else {
            r
        }
    });
    let mut all_widths = vec![Constraint::Length(1)];
    all_widths.extend_from_slice(widths);
    let table = Table::new(rows, all_widths)
        .header(
            Row::new(
                std::iter::once(Cell::from(" ")).chain(headers.iter().map(|h| Cell::from(*h))),
            )
            .style(theme.header()),
        )
        .block(block);
    frame.render_widget(table, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_selection_without_jumping() {
        assert_eq!(visible_offset(0, 5, 10), 0);
        assert_eq!(visible_offset(0, 10, 10), 1);
        assert_eq!(visible_offset(5, 3, 10), 3);
        assert_eq!(visible_offset(5, 9, 10), 5);
    }

    #[test]
    fn answers_for_an_older_generation_are_dropped() {
        let mut list: PagedList<u32> = PagedList::default();
        let old = list.reset();
        let new = list.reset();
        assert!(!list.accept(old, Ok((vec![1], 1, false, 1))));
        assert!(list.accept(new, Ok((vec![2, 3], 1, true, 5))));
        assert_eq!(list.items, [2, 3]);
        assert_eq!(list.next_page, Some(2));
        assert_eq!(list.wants_more(), Some((new, 2)));
        assert_eq!(list.wants_more(), None, "one page request at a time");
    }
}
