//! Screen layout as pure arithmetic, shared by `update` (page sizes, which rows are visible)
//! and the renderer, so the two always agree.

/// A rectangle in terminal cells (the app's own type: `app` does not depend on ratatui).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Area {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

impl Area {
    pub fn new(x: u16, y: u16, w: u16, h: u16) -> Area {
        Area { x, y, w, h }
    }

    /// Inside a one-cell border.
    pub fn inner(self) -> Area {
        Area {
            x: self.x.saturating_add(1),
            y: self.y.saturating_add(1),
            w: self.w.saturating_sub(2),
            h: self.h.saturating_sub(2),
        }
    }

    fn split_h(self, top: u16) -> (Area, Area) {
        let top = top.min(self.h);
        (
            Area { h: top, ..self },
            Area {
                y: self.y + top,
                h: self.h - top,
                ..self
            },
        )
    }

    fn split_w(self, left: u16) -> (Area, Area) {
        let left = left.min(self.w);
        (
            Area { w: left, ..self },
            Area {
                x: self.x + left,
                w: self.w - left,
                ..self
            },
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pane {
    Mrs,
    Pipelines,
    Queue,
    Activity,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Mrs, Pane::Pipelines, Pane::Queue, Pane::Activity];

    pub fn number(self) -> usize {
        match self {
            Pane::Mrs => 1,
            Pane::Pipelines => 2,
            Pane::Queue => 3,
            Pane::Activity => 4,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Mrs => "Merge requests",
            Pane::Pipelines => "Pipelines",
            Pane::Queue => "Proposed commands",
            Pane::Activity => "Activity",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Pane::Mrs => "MRs",
            Pane::Pipelines => "Pipelines",
            Pane::Queue => "Queue",
            Pane::Activity => "Activity",
        }
    }

    /// Panes shown together on a two-pane page (80-119 columns).
    pub fn page(self) -> usize {
        match self {
            Pane::Mrs | Pane::Pipelines => 0,
            Pane::Queue | Pane::Activity => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 120+ columns and `WIDE_MIN_H`+ rows: every pane at once.
    Wide,
    /// 80-119 columns: two panes plus tabs.
    Medium,
    /// Under 80 columns: one pane, number keys switch.
    Narrow,
    /// Below 50x12: a message instead of a broken screen.
    TooSmall,
}

pub const MIN_W: u16 = 50;
pub const MIN_H: u16 = 12;
pub const HEADER_H: u16 = 2;
/// Below this height four panes leave some without a single list row: two panes instead.
pub const WIDE_MIN_H: u16 = 15;
/// The plan's summary row goes above the queue only when the queue keeps a few rows.
pub const BANNER_MIN_H: u16 = 6;
/// The selected command's preview under the queue: a bordered box of three lines (why, what it
/// sends, what it requires now).
pub const PREVIEW_H: u16 = 5;
/// The preview is drawn only when the queue's list keeps at least three rows beside it.
pub const PREVIEW_MIN_H: u16 = PREVIEW_H + 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub mode: Mode,
    pub header: Area,
    pub tabs: Option<Area>,
    /// Everything between header/tabs and the status bar: where full-screen views go.
    pub body: Area,
    pub status: Area,
    /// Panes on screen with their outer (bordered) areas.
    pub panes: Vec<(Pane, Area)>,
    /// The row above the queue that shows the last plan's summary, when there is one and room.
    pub plan_banner: Option<Area>,
    /// The box under the queue that previews the selected command, when there is one and room.
    pub queue_preview: Option<Area>,
}

impl Layout {
    pub fn compute(w: u16, h: u16, focus: Pane) -> Layout {
        let full = Area::new(0, 0, w, h);
        if w < MIN_W || h < MIN_H {
            return Layout {
                mode: Mode::TooSmall,
                header: Area::default(),
                tabs: None,
                body: full,
                status: Area::default(),
                panes: Vec::new(),
                plan_banner: None,
                queue_preview: None,
            };
        }
        let mode = if w >= 120 && h >= WIDE_MIN_H {
            Mode::Wide
        } else if w >= 80 {
            Mode::Medium
        } else {
            Mode::Narrow
        };
        let (header, rest) = full.split_h(HEADER_H);
        let (rest, status) = rest.split_h(rest.h - 1);
        let (tabs, body) = if mode == Mode::Wide {
            (None, rest)
        } else {
            let (t, b) = rest.split_h(1);
            (Some(t), b)
        };
        let panes = match mode {
            Mode::Wide => {
                // MRs need the width (many columns): full-width on top; pipelines beside the
                // queue and activity below.
                let (top, bottom) = body.split_h(body.h * 2 / 5);
                // The focused side gets the larger share.
                let share = if matches!(focus, Pane::Queue | Pane::Activity) {
                    9
                } else {
                    11
                };
                let (left, right) = bottom.split_w(bottom.w * share / 20);
                // The queue is where decisions are made: the larger share.
                let (q, a) = right.split_h(right.h * 3 / 5);
                vec![
                    (Pane::Mrs, top),
                    (Pane::Pipelines, left),
                    (Pane::Queue, q),
                    (Pane::Activity, a),
                ]
            }
            Mode::Medium => {
                let (top, bottom) = body.split_h(body.h / 2);
                if focus.page() == 0 {
                    vec![(Pane::Mrs, top), (Pane::Pipelines, bottom)]
                } else {
                    vec![(Pane::Queue, top), (Pane::Activity, bottom)]
                }
            }
            Mode::Narrow => vec![(focus, body)],
            Mode::TooSmall => Vec::new(),
        };
        Layout {
            mode,
            header,
            tabs,
            body,
            status,
            panes,
            plan_banner: None,
            queue_preview: None,
        }
    }

    /// Takes the plan summary's row from the top of the queue's area when `shown` and the
    /// queue has room: the queue's list, its page size and its scrolling all count without it.
    pub fn with_plan_banner(mut self, shown: bool) -> Layout {
        self.plan_banner = None;
        if !shown {
            return self;
        }
        if let Some((_, area)) = self
            .panes
            .iter_mut()
            .find(|(p, a)| *p == Pane::Queue && a.h >= BANNER_MIN_H)
        {
            let (banner, rest) = area.split_h(1);
            *area = rest;
            self.plan_banner = Some(banner);
        }
        self
    }

    /// Takes the preview box from the bottom of the queue's area when `shown` and the queue
    /// keeps three list rows; like the banner, the list's page size and scrolling count
    /// without it. Apply after `with_plan_banner`.
    pub fn with_queue_preview(mut self, shown: bool) -> Layout {
        self.queue_preview = None;
        if !shown {
            return self;
        }
        if let Some((_, area)) = self
            .panes
            .iter_mut()
            .find(|(p, a)| *p == Pane::Queue && a.h >= PREVIEW_MIN_H)
        {
            let (rest, preview) = area.split_h(area.h - PREVIEW_H);
            *area = rest;
            self.queue_preview = Some(preview);
        }
        self
    }

    pub fn area_of(&self, pane: Pane) -> Option<Area> {
        self.panes.iter().find(|(p, _)| *p == pane).map(|(_, a)| *a)
    }

    /// Rows of list content in a pane: inside the border, below the column header.
    pub fn list_rows(&self, pane: Pane) -> usize {
        self.area_of(pane)
            .map(|a| a.inner().h.saturating_sub(1) as usize)
            .unwrap_or(0)
    }

    /// Rows available to a full-screen view (log, MR detail): inside its border.
    pub fn view_rows(&self) -> usize {
        self.body.inner().h as usize
    }

    pub fn view_cols(&self) -> usize {
        self.body.inner().w as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakpoints() {
        assert_eq!(Layout::compute(120, 40, Pane::Mrs).mode, Mode::Wide);
        assert_eq!(Layout::compute(120, 15, Pane::Mrs).mode, Mode::Wide);
        assert_eq!(Layout::compute(120, 14, Pane::Mrs).mode, Mode::Medium);
        assert_eq!(Layout::compute(119, 40, Pane::Mrs).mode, Mode::Medium);
        assert_eq!(Layout::compute(80, 24, Pane::Mrs).mode, Mode::Medium);
        assert_eq!(Layout::compute(79, 24, Pane::Mrs).mode, Mode::Narrow);
        assert_eq!(Layout::compute(49, 24, Pane::Mrs).mode, Mode::TooSmall);
        assert_eq!(Layout::compute(80, 11, Pane::Mrs).mode, Mode::TooSmall);
    }

    /// Found by the property test: at 120x12 the four-pane layout left the MR list and the
    /// queue with no row at all.
    #[test]
    fn every_pane_on_screen_keeps_a_list_row() {
        for w in [50, 79, 80, 119, 120, 200] {
            for h in MIN_H..40 {
                for focus in Pane::ALL {
                    let l = Layout::compute(w, h, focus);
                    for (p, _) in &l.panes {
                        assert!(l.list_rows(*p) >= 1, "{w}x{h}: {p:?} has no row");
                    }
                }
            }
        }
    }

    #[test]
    fn the_plan_banner_takes_a_row_from_the_queue_list() {
        let plain = Layout::compute(120, 40, Pane::Queue);
        let l = plain.clone().with_plan_banner(true);
        let (q, b) = (plain.area_of(Pane::Queue).unwrap(), l.plan_banner.unwrap());
        assert_eq!((b.y, b.h, b.w), (q.y, 1, q.w));
        assert_eq!(l.area_of(Pane::Queue).unwrap().y, q.y + 1);
        assert_eq!(l.list_rows(Pane::Queue) + 1, plain.list_rows(Pane::Queue));
        assert_eq!(l.list_rows(Pane::Mrs), plain.list_rows(Pane::Mrs));
        // No room (or no queue on screen): no banner, nothing taken.
        let small = Layout::compute(50, 12, Pane::Mrs).with_plan_banner(true);
        assert_eq!(small.plan_banner, None);
        assert_eq!(plain.clone().with_plan_banner(false), plain);
    }

    #[test]
    fn panes_tile_the_body_without_overlap() {
        for (w, h) in [
            (120, 40),
            (200, 60),
            (80, 24),
            (100, 30),
            (60, 20),
            (50, 12),
        ] {
            for focus in Pane::ALL {
                let l = Layout::compute(w, h, focus);
                let cells: u32 = l.panes.iter().map(|(_, a)| a.w as u32 * a.h as u32).sum();
                assert_eq!(cells, l.body.w as u32 * l.body.h as u32, "{w}x{h}");
                assert!(l.area_of(focus).is_some(), "{w}x{h} hides the focused pane");
                assert_eq!(l.status.y, h - 1);
            }
        }
    }

    #[test]
    fn the_preview_takes_rows_from_the_queue_list_only_when_three_remain() {
        let plain = Layout::compute(120, 40, Pane::Queue).with_plan_banner(true);
        let l = plain.clone().with_queue_preview(true);
        let (q, p) = (l.area_of(Pane::Queue).unwrap(), l.queue_preview.unwrap());
        assert_eq!(p.y, q.y + q.h, "the preview sits right under the queue");
        assert_eq!(p.h, PREVIEW_H);
        assert_eq!(
            l.list_rows(Pane::Queue) + PREVIEW_H as usize,
            plain.list_rows(Pane::Queue)
        );
        assert!(l.list_rows(Pane::Queue) >= 3);
        // 80x24: the queue has 9 rows under the banner; no preview.
        let small = Layout::compute(80, 24, Pane::Queue)
            .with_plan_banner(true)
            .with_queue_preview(true);
        assert_eq!(small.queue_preview, None);
        assert_eq!(plain.clone().with_queue_preview(false), plain);
    }
}
