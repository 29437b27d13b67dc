//! Selection and scroll offset of a list whose viewport height is known.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListCursor {
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
}

impl ListCursor {
    /// Moves the selection by `delta` rows, clamped to the list, and scrolls it into view.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            *self = ListCursor::default();
            return;
        }
        let sel = self.selected as isize + delta;
        self.selected = sel.clamp(0, len as isize - 1) as usize;
        self.scroll_into_view(len, height);
    }

    pub fn top(&mut self) {
        *self = ListCursor::default();
    }

    pub fn bottom(&mut self, len: usize, height: usize) {
        self.selected = len.saturating_sub(1);
        self.scroll_into_view(len, height);
    }

    /// Keeps the selection inside the list and on screen after the list or the height changed.
    pub fn clamp(&mut self, len: usize, height: usize) {
        if len == 0 {
            *self = ListCursor::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        self.scroll_into_view(len, height);
    }

    fn scroll_into_view(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        // No blank space below the last row when the list could fill the viewport.
        self.offset = self.offset.min(len.saturating_sub(height));
    }

    /// Scrolls to the top when the selection still fits on the first screen: rows that arrive
    /// above it (newer pipelines) are shown rather than left scrolled off.
    pub fn prefer_top(&mut self, height: usize) {
        if self.selected < height.max(1) {
            self.offset = 0;
        }
    }

    /// Rows `offset..end` are on screen.
    pub fn visible(&self, len: usize, height: usize) -> std::ops::Range<usize> {
        let start = self.offset.min(len);
        start..(start + height).min(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_clamps_and_scrolls() {
        let mut c = ListCursor::default();
        c.move_by(1, 10, 3);
        assert_eq!((c.selected, c.offset), (1, 0));
        c.move_by(5, 10, 3);
        assert_eq!((c.selected, c.offset), (6, 4));
        c.move_by(100, 10, 3);
        assert_eq!((c.selected, c.offset), (9, 7));
        c.move_by(-100, 10, 3);
        assert_eq!((c.selected, c.offset), (0, 0));
        c.bottom(10, 3);
        c.clamp(4, 3);
        assert_eq!((c.selected, c.offset), (3, 1));
        c.clamp(0, 3);
        assert_eq!(c, ListCursor::default());
        assert_eq!(
            ListCursor {
                selected: 5,
                offset: 4
            }
            .visible(6, 3),
            4..6
        );
    }
}
